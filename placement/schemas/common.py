"""Schema fragments shared by several resources."""

UUID = {'type': 'string', 'format': 'uuid'}

GENERATION = {'type': 'integer'}

# Characters no database column can store: NUL (PostgreSQL refuses it)
# and surrogate code points (only lone ones reach Python strings; they
# cannot be encoded as UTF-8).  Refused up front instead of failing in
# the database driver.
STORABLE = r'^[^\x00\ud800-\udfff]*$'

# Custom resource class and trait names: CUSTOM_ then upper-case letters,
# digits and underscores.
CUSTOM_NAME_PATTERN = '^CUSTOM_[A-Z0-9_]+$'
