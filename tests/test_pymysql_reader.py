"""placement/db/pymysql_reader.py: what ``query`` answers on a real
MariaDB/MySQL connection is what pymysql's own cursor answers (rows,
types, row counts, ids, errors, the connection's state afterwards); and,
on made-up packets, it checks them as pymysql does (sequence numbers,
lost connections, packets split at 16 MB)."""

import datetime
import decimal
import io
import struct

import pytest

from tests import databases

pymysql = pytest.importorskip('pymysql')
from placement.db import pymysql_reader  # noqa: E402  (needs pymysql)

MULTI_STATEMENTS = 1 << 16


@pytest.fixture
def connection(tmp_path):
    """A pymysql connection (several statements per query allowed) to a
    fresh database holding a table of assorted types."""
    if 'mysql' not in databases.backends():
        pytest.skip('MariaDB/MySQL is not among PLACEMENT_TEST_DBS')
    url = databases.fresh_url('mysql', tmp_path)
    parsed = databases.sa.engine.make_url(url)
    conn = pymysql.connect(
        host=parsed.host, port=parsed.port or 3306, user=parsed.username,
        password=parsed.password or '', database=parsed.database,
        charset='utf8mb4', client_flag=MULTI_STATEMENTS)
    with conn.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE sample (id INTEGER AUTO_INCREMENT PRIMARY KEY, '
            'big BIGINT, name VARCHAR(255), body MEDIUMTEXT, '
            'raw VARBINARY(64), at DATETIME, amount DECIMAL(10, 3), '
            'ratio DOUBLE, flag BOOLEAN)')
        cursor.executemany(
            'INSERT INTO sample (big, name, body, raw, at, amount, ratio, '
            'flag) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)', [
                (2 ** 40, 'plain', 'x' * 300, b'\x00\xff\xfe',
                 datetime.datetime(2026, 11, 23, 1, 2, 3),
                 decimal.Decimal('1.250'), 0.5, True),
                (-1, 'ünïcödé ✓', 'y' * 70000, b'', None, None, None, False),
                (None, None, None, None, None, None, None, None),
            ])
    conn.commit()
    yield conn
    conn.close()
    databases.drop(url)


def with_cursor(conn, text):
    """(rows, rowcount, lastrowid, description) of pymysql's cursor."""
    with conn.cursor() as cursor:
        cursor.execute(text)
        answer = (list(cursor.fetchall()) if cursor.description else None,
                  cursor.rowcount, cursor.lastrowid, cursor.description)
        while cursor.nextset():
            pass
    return answer


def with_reader(conn, text):
    return pymysql_reader.query(conn, text)


@pytest.mark.parametrize('text', [
    'SELECT * FROM sample ORDER BY id',
    'SELECT id, name FROM sample WHERE id = 0',
    'SELECT COUNT(*), GROUP_CONCAT(name) FROM sample',
    "SELECT 'a' AS one, NULL AS two, 1.5 AS three",
    'UPDATE sample SET flag = NOT flag WHERE id > 1',
    'UPDATE sample SET flag = flag WHERE id = 0',
    "INSERT INTO sample (name) VALUES ('new')",
    'SELECT name FROM sample ORDER BY id; UPDATE sample SET big = 1 '
    'WHERE id = 3; SET autocommit = 0',
    "INSERT INTO sample (name) VALUES ('two'); SELECT 1",
    'SET autocommit = 1',
    'BEGIN',
])
def test_answers_as_pymysql_does(connection, text):
    theirs = with_cursor(connection, text)
    status = connection.server_status
    connection.rollback()
    if text.startswith('INSERT'):
        # The next id differs; the answer's shape must not.
        connection.query('DELETE FROM sample WHERE id > 3')
        connection.commit()
    ours = with_reader(connection, text)
    if text.startswith('INSERT'):
        assert ours[1] == theirs[1] and ours[2] > theirs[2] > 3
    else:
        assert ours == theirs
    assert connection.server_status == status
    connection.rollback()
    # The connection goes on as pymysql left it.
    assert with_cursor(connection, 'SELECT 7')[0] == [(7,)]


def test_rows_keep_their_types(connection):
    rows = pymysql_reader.query(
        connection, 'SELECT * FROM sample ORDER BY id')[0]
    first, second, third = rows
    assert first == (1, 2 ** 40, 'plain', 'x' * 300, b'\x00\xff\xfe',
                     datetime.datetime(2026, 11, 23, 1, 2, 3),
                     decimal.Decimal('1.250'), 0.5, 1)
    assert second[2] == 'ünïcödé ✓' and len(second[3]) == 70000
    assert third == (3,) + (None,) * 8


@pytest.mark.parametrize('text', [
    'SELECT nothing FROM nowhere',
    'SELEC 1',
    "SELECT 1; INSERT INTO sample (id) VALUES (1); SELECT 2",
    "UPDATE sample SET name = 'late' WHERE id = 2; SELEC 1",
])
def test_errors_are_pymysqls(connection, text):
    with pytest.raises(pymysql.Error) as theirs:
        with_cursor(connection, text)
    connection.rollback()
    with pytest.raises(pymysql.Error) as ours:
        with_reader(connection, text)
    assert type(ours.value) is type(theirs.value)
    assert ours.value.args == theirs.value.args
    connection.rollback()
    # Nothing is left unread: the connection still answers in order.
    assert with_reader(connection, 'SELECT 8')[0] == [(8,)]
    assert with_cursor(connection, 'SELECT 9')[0] == [(9,)]


def test_result_shapes_are_kept_per_connection(connection):
    for _ in range(3):
        pymysql_reader.query(connection, 'SELECT id, name FROM sample')
        pymysql_reader.query(connection, 'SELECT name FROM sample')
    assert len(getattr(connection, pymysql_reader._SHAPES)) == 2


class FakeConnection:
    """What ``query`` uses of a pymysql connection, answering ``data``."""

    def __init__(self, data):
        self._rfile = io.BufferedReader(io.BytesIO(data))
        self._sock = None
        self._next_seq_id = 0
        self._result = None
        self._read_timeout = self._current_timeout = None
        self.server_status = 2
        self.decoders = pymysql.converters.decoders
        self.encoding = 'utf8'
        self.use_unicode = True
        self.closed = False

    def _execute_command(self, command, text):
        self._next_seq_id = 1

    def _force_close(self):
        self.closed = True


def packet(sequence, payload):
    return struct.pack('<I', len(payload))[:3] + bytes([sequence]) + payload


def ok_packet(sequence, affected=1, status=2):
    return packet(sequence, bytes([0, affected, 0]) +
                  struct.pack('<HH', status, 0))


def test_a_made_up_connection_is_usable():
    assert pymysql_reader.usable(FakeConnection(b''))
    assert not pymysql_reader.usable(object())


def test_ok_packet():
    conn = FakeConnection(ok_packet(1, affected=3, status=0x4002))
    rows, rowcount, _, _ = pymysql_reader.query(conn, 'UPDATE')
    assert (rows, rowcount) == (None, 3)
    assert conn.server_status == 0x4002 and conn._next_seq_id == 2


def test_a_packet_out_of_sequence_closes_the_connection():
    conn = FakeConnection(ok_packet(5))
    with pytest.raises(pymysql.err.InternalError):
        pymysql_reader.query(conn, 'UPDATE')
    assert conn.closed


@pytest.mark.parametrize('data', [b'', b'\x07\x00', ok_packet(1)[:-2]])
def test_a_short_answer_is_a_lost_connection(data):
    conn = FakeConnection(data)
    with pytest.raises(pymysql.err.OperationalError) as raised:
        pymysql_reader.query(conn, 'UPDATE')
    assert raised.value.args[0] == pymysql.constants.CR.CR_SERVER_LOST
    assert conn.closed


def test_packets_of_16_mb_are_joined():
    """A payload of 2**24 - 1 bytes or more comes in several packets,
    the last one shorter; a value that long has an 8-byte length."""
    value = b'v' * (2 ** 24 + 10)
    column = (b'\x03def\x00\x01t\x01t\x01c\x01c\x0c' +
              struct.pack('<HIBHB', 63, len(value), 252, 0x80, 0) +
              b'\x00\x00')
    row = b'\xfe' + struct.pack('<Q', len(value)) + value
    first, rest = row[:2 ** 24 - 1], row[2 ** 24 - 1:]
    data = (packet(1, b'\x01') + packet(2, column) +
            packet(3, b'\xfe\x00\x00\x02\x00') +
            struct.pack('<I', 2 ** 24 - 1)[:3] + bytes([4]) + first +
            packet(5, rest) + packet(6, b'\xfe\x00\x00\x02\x00'))
    conn = FakeConnection(data)
    rows = pymysql_reader.query(conn, 'SELECT')[0]
    assert rows == [(value,)]
    assert conn._next_seq_id == 7
