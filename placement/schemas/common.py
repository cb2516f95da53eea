"""Schema fragments shared by several resources."""

UUID = {'type': 'string', 'format': 'uuid'}

GENERATION = {'type': 'integer'}

# Custom resource class and trait names: CUSTOM_ then upper-case letters,
# digits and underscores.
CUSTOM_NAME_PATTERN = '^CUSTOM_[A-Z0-9_]+$'

# An aggregate or provider uuid list in a query string: a bare uuid or
# "in:" followed by comma separated uuids (checked by the handler).
QUERY_STRING = {'type': 'string'}
