"""``GET /``: the version document."""

from placement import api
from placement import microversion
from placement.api import jsonio


class Root(api.Resource):
    json_only = False

    def on_get(self, req, resp):
        jsonio.write(req, resp, {'versions': [{
            'id': 'v1.0',
            'max_version': microversion.format_version(
                microversion.MAX_VERSION),
            'min_version': microversion.format_version(
                microversion.MIN_VERSION),
            'status': 'CURRENT',
            'links': [{'rel': 'self', 'href': ''}],
        }]})
