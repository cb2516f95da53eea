"""The HTTP layer: one Falcon resource class per noun.

Resources parse and validate the request, call the data layer inside one
transaction, and render the response.  Nothing here writes SQL.
"""


class Resource:
    """Base of the API's resources: the application's database, policy
    enforcer and configuration, injected by the app factory."""

    # The order of the methods in a 405's Allow header, as OpenStack
    # Placement's route table lists them.
    METHOD_ORDER = ('GET', 'POST', 'PUT', 'DELETE', 'PATCH')

    def __init__(self, db, policy, conf):
        self.db = db
        self.policy = policy
        self.conf = conf


def location(req, path):
    """The absolute URL of ``path`` (from the application's root), as a
    Location header gives it."""
    return req.prefix + path
