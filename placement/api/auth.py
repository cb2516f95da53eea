"""Policy checks as Falcon hooks.

``@authorize('placement:...')`` on a responder checks the rule against the
request's credentials before the responder runs.  Resources that use it
hold the application's ``Policy`` as ``self.policy``.
"""

import falcon


def authorize(rule):
    def hook(req, resp, resource, params):
        resource.policy.authorize(req.context.auth, rule)
    return falcon.before(hook)
