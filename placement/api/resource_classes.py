"""``/resource_classes`` and ``/resource_classes/{name}`` (from 1.2).

``PUT /resource_classes/{name}`` renames a custom class with a body
before 1.7; from 1.7 it takes no body and creates the class unless it
exists (201 created, 204 already there).
"""

from placement import api
from placement import errors
from placement import schemas
from placement.api import auth
from placement.api import jsonio
from placement.microversion import Versioned
from placement.microversion import since
from placement.objects import resource_class as rc_obj
from placement.schemas import resource_class as schema


def render(resource_class):
    return {'name': resource_class.name,
            'links': [{'rel': 'self',
                       'href': '/resource_classes/%s' % resource_class.name}]}


def _location(req, name):
    return api.location(req, '/resource_classes/%s' % name)


class ResourceClasses(api.Resource):
    @since('1.2')
    @auth.authorize('placement:resource_classes:list')
    def on_get(self, req, resp):
        classes = self.db.read(rc_obj.list_all)
        jsonio.write(req, resp,
                     {'resource_classes': [render(rc) for rc in classes]},
                     modified=jsonio.last_modified(*classes))

    @since('1.2')
    @jsonio.requires_json()
    @auth.authorize('placement:resource_classes:create')
    def on_post(self, req, resp):
        name = jsonio.read(req, schema.BODY)['name']
        self.db.write(rc_obj.create, name)
        resp.set_header('Location', _location(req, name))
        jsonio.no_content(resp, status=201)


def _rename(resource, req, resp, name):
    """1.2-1.6: rename a custom class to the name in the body."""
    new_name = jsonio.read(req, schema.BODY)['name']
    renamed = resource.db.write(rc_obj.rename, name, new_name)
    jsonio.write(req, resp, render(renamed),
                 modified=jsonio.last_modified(renamed))


def _ensure(resource, req, resp, name):
    """1.7 on: create the class named in the path unless it exists."""
    schemas.validate({'name': name}, schema.PATH_NAME)
    created = resource.db.write(rc_obj.ensure, name)
    resp.set_header('Location', _location(req, name))
    jsonio.no_content(resp, status=201 if created else 204)


_PUT = Versioned({'1.2': _rename, '1.7': _ensure})


class ResourceClass(api.Resource):
    @since('1.2')
    @auth.authorize('placement:resource_classes:show')
    def on_get(self, req, resp, name):
        found = self.db.read(rc_obj.get_by_name, name)
        jsonio.write(req, resp, render(found),
                     modified=jsonio.last_modified(found))

    @since('1.2')
    @jsonio.requires_json(before='1.7')
    @auth.authorize('placement:resource_classes:update')
    def on_put(self, req, resp, name):
        _PUT[req.context.version](self, req, resp, name)

    @since('1.2')
    @auth.authorize('placement:resource_classes:delete')
    def on_delete(self, req, resp, name):
        try:
            self.db.write(rc_obj.delete, name)
        except errors.StandardResourceClass as exc:
            raise errors.bad_request(
                'Error in delete resource class: %s' % exc)
        except errors.ResourceClassInUse as exc:
            raise errors.conflict('Error in delete resource class: %s' % exc)
        jsonio.no_content(resp)
