"""The HTTP layer: one Falcon resource class per noun.

Resources parse and validate the request, call the data layer inside one
transaction, and render the response.  Nothing here writes SQL.
"""


class Resource:
    """Base of the API's resources: the application's database, policy
    enforcer and configuration, injected by the app factory."""

    def __init__(self, db, policy, conf):
        self.db = db
        self.policy = policy
        self.conf = conf
