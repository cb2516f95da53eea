"""The HTTP layer: one Falcon resource class per noun.

Resources parse and validate the request, call the data layer inside one
transaction, and render the response.  Nothing here writes SQL.
"""
