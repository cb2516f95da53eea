"""A statement's parameters written into its text as pymysql writes them.

pymysql sends a statement as text with every parameter quoted in
Python, by a general path that costs a few microseconds a value: more
than the rest of building the statement for an INSERT of a few rows or
an IN list of uuids.  ``render`` gives the same text, quoting the
values statements mostly carry (integers, plain strings, None, naive
datetimes) directly and leaving every other value to pymysql.
"""

import datetime
import re

# The characters pymysql escapes in a string (when the server has
# backslash escapes, the default).
_ESCAPED = re.compile('[\x00\n\r\x1a\'"\\\\]')
# The server status flag of sessions whose sql_mode has
# NO_BACKSLASH_ESCAPES (pymysql then quotes strings another way).
_NO_BACKSLASH_ESCAPES = 0x200


def render(dbapi_conn, text, parameters):
    """The text pymysql's ``cursor.execute(text, parameters)`` sends on
    ``dbapi_conn`` (a pymysql connection); ``parameters`` is a dict."""
    if dbapi_conn.server_status & _NO_BACKSLASH_ESCAPES:
        return dbapi_conn.cursor().mogrify(text, parameters)
    literals = {}
    for name, value in parameters.items():
        kind = type(value)
        if kind is int:
            literals[name] = str(value)
        elif kind is str and _ESCAPED.search(value) is None:
            literals[name] = "'" + value + "'"
        elif value is None:
            literals[name] = 'NULL'
        elif kind is datetime.datetime and value.tzinfo is None:
            literals[name] = "'" + value.isoformat(' ') + "'"
        else:
            literals[name] = dbapi_conn.escape(value, dbapi_conn.encoders)
    return text % literals
