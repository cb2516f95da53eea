"""Results of a query on a pymysql connection, read in one pass.

pymysql reads each packet of an answer into an object, parses every
column description into another, and asks each packet what kind it is
through several calls: about 80 us of CPU for a one-row, one-column
SELECT, and 12 us more for each column, more than the server spends on
the short statements of this service.  ``query`` sends a statement as
pymysql sends it (the connection's own ``_execute_command``) and reads
the answer, every result of statements sent together, with one loop
over packets.

What it gives is what pymysql's cursor gives: column descriptions are
decoded with pymysql's own packet class (once per distinct description,
as a statement's is the same on every run) and values converted with
the connection's own decoders; errors are pymysql's own exceptions.  The
connection is left as pymysql leaves it: packet sequence, server status
(read from OK packets, as pymysql does), no result pending.

It relies on attributes pymysql does not document (``usable`` checks
them); without them the caller uses a cursor.
"""

try:
    from pymysql import connections
    from pymysql import converters
    from pymysql import err
    from pymysql import protocol
    from pymysql.constants import COMMAND
    from pymysql.constants import CR
    from pymysql.constants import FIELD_TYPE
    from pymysql.constants import SERVER_STATUS
except ImportError:  # installed without the mysql extra
    connections = None
else:
    _MAX_PACKET = connections.MAX_PACKET_LEN
    _MORE_RESULTS = SERVER_STATUS.SERVER_MORE_RESULTS_EXISTS
_NEEDED = ('_execute_command', '_rfile', '_sock', '_next_seq_id', '_result',
           '_force_close', '_read_timeout', '_current_timeout',
           'server_status', 'decoders', 'encoding', 'use_unicode')
# Decoded column descriptions kept per connection, at most _MAX_SHAPES.
_SHAPES = '_placement_result_shapes'
_MAX_SHAPES = 256


def usable(dbapi_conn):
    """True when ``query`` can read answers on ``dbapi_conn``."""
    kind = type(dbapi_conn)
    found = _USABLE.get(kind)
    if found is None:
        found = _USABLE[kind] = connections is not None and all(
            hasattr(dbapi_conn, name) for name in _NEEDED)
    return found


# connection class -> whether it has what ``query`` uses
_USABLE = {}


def query(conn, text):
    """Send the statement(s) ``text`` on the pymysql connection ``conn``
    and read every result; answer the first one as (rows, rowcount, last
    inserted id, DBAPI description), which a pymysql cursor would hold
    after ``execute`` (rows and description None without a result set).
    Raises pymysql's errors, as its cursor would (an error in a later
    statement included)."""
    conn._execute_command(COMMAND.COM_QUERY, text)
    if conn._current_timeout != conn._read_timeout:
        conn._sock.settimeout(conn._read_timeout)
        conn._current_timeout = conn._read_timeout
    packets = _Packets(conn)
    try:
        first = answer = _result(conn, packets)
        while answer[4] & _MORE_RESULTS:
            answer = _result(conn, packets)
    finally:
        conn._next_seq_id = packets.sequence
        conn._result = None
    return first[:4]


class _Packets:
    """The packets of one answer, in order, checked as pymysql checks
    them (sequence numbers, lost connections)."""

    __slots__ = ('conn', 'read', 'sequence')

    def __init__(self, conn):
        self.conn = conn
        self.read = conn._rfile.read
        self.sequence = conn._next_seq_id

    def next(self):
        read = self.read
        payload = b''
        while True:
            try:
                header = read(4)
                length = header[0] | header[1] << 8 | header[2] << 16
                if header[3] != self.sequence:
                    self._out_of_sequence(header[3])
                self.sequence = (self.sequence + 1) & 0xFF
                part = read(length)
            except OSError as error:
                self._lost(' (%s)' % error)
            except IndexError:
                self._lost('')
            except BaseException:
                self.conn._force_close()
                raise
            if len(part) < length:
                self._lost('')
            if length < _MAX_PACKET:
                return payload + part if payload else part
            payload += part

    def _lost(self, detail):
        self.conn._force_close()
        raise err.OperationalError(
            CR.CR_SERVER_LOST,
            'Lost connection to MySQL server during query' + detail)

    def _out_of_sequence(self, number):
        if number == 0:
            # (MariaDB answers a shutdown with an error numbered 0.)
            self._lost('')
        self.conn._force_close()
        raise err.InternalError(
            'Packet sequence number wrong - got %d expected %d'
            % (number, self.sequence))


def _result(conn, packets):
    """(rows, rowcount, last id, description, server status) of the next
    result.  The status of a result set is its end packet's, which tells
    whether more results follow; pymysql does not take the connection's
    status from it, nor does this."""
    data = packets.next()
    kind = data[0]
    if kind == 0 and len(data) >= 7:
        affected, position = _length(data, 1)
        insert_id, position = _length(data, position)
        status = data[position] | data[position + 1] << 8
        conn.server_status = status
        conn._affected_rows = affected
        return None, affected, insert_id, None, status
    if kind == 0xFF:
        err.raise_mysql_exception(data)
    if kind == 0xFB:
        # LOAD DATA LOCAL: never sent by this service; the server now
        # waits for a file, so the connection cannot go on.
        conn._force_close()
        raise err.OperationalError(
            CR.CR_COMMANDS_OUT_OF_SYNC, 'LOAD DATA LOCAL is not supported')
    count, _ = _length(data, 0)
    columns = tuple(packets.next() for _ in range(count))
    end = packets.next()
    if not (end[0] == 0xFE and len(end) < 9):
        conn._force_close()
        raise err.OperationalError(CR.CR_COMMANDS_OUT_OF_SYNC,
                                   'Protocol error, expecting EOF')
    description, decoders = _shape(conn, columns)
    rows = []
    while True:
        data = packets.next()
        if data[0] == 0xFE and len(data) < 9:
            break
        if data[0] == 0xFF:
            err.raise_mysql_exception(data)
        rows.append(_row(data, decoders))
    conn._affected_rows = len(rows)
    status = data[3] | data[4] << 8 if len(data) >= 5 else 0
    return rows, len(rows), None, description, status


def _length(data, position):
    """(length-encoded integer at ``position``, the position after it);
    None for the NULL marker."""
    first = data[position]
    if first < 251:
        return first, position + 1
    if first == 251:
        return None, position + 1
    if first == 252:
        return data[position + 1] | data[position + 2] << 8, position + 3
    if first == 253:
        return (int.from_bytes(data[position + 1:position + 4], 'little'),
                position + 4)
    return (int.from_bytes(data[position + 1:position + 9], 'little'),
            position + 9)


def _row(data, decoders):
    row = []
    position = 0
    end = len(data)
    for encoding, convert in decoders:
        if position >= end:
            # pymysql stops at a short row too.
            break
        length = data[position]
        if length < 251:
            position += 1
        elif length == 251:
            row.append(None)
            position += 1
            continue
        else:
            length, position = _length(data, position)
        value = data[position:position + length]
        position += length
        if encoding is not None:
            value = value.decode(encoding)
        if convert is not None:
            value = convert(value)
        row.append(value)
    return tuple(row)


def _shape(conn, columns):
    """(DBAPI description, [(encoding, converter)]) of the column
    description packets ``columns``, decoded as pymysql decodes them."""
    shapes = getattr(conn, _SHAPES, None)
    if shapes is None:
        shapes = {}
        setattr(conn, _SHAPES, shapes)
    shape = shapes.get(columns)
    if shape is None:
        if len(shapes) >= _MAX_SHAPES:
            shapes.clear()
        shape = shapes[columns] = _decode_shape(conn, columns)
    return shape


def _decode_shape(conn, columns):
    description, decoders = [], []
    for data in columns:
        field = protocol.FieldDescriptorPacket(data, conn.encoding)
        description.append(field.description())
        field_type = field.type_code
        if not conn.use_unicode:
            encoding = None
        elif field_type == FIELD_TYPE.JSON:
            encoding = conn.encoding
        elif field_type in connections.TEXT_TYPES:
            encoding = None if field.charsetnr == 63 else conn.encoding
        else:
            encoding = 'ascii'
        convert = conn.decoders.get(field_type)
        if convert is converters.through:
            convert = None
        decoders.append((encoding, convert))
    return tuple(description), tuple(decoders)
