"""placement.api.jsonio: its HTTP dates against the standard library's,
and the request bodies it refuses for strings that are not unicode text."""

import datetime
import email.utils

import falcon.testing
import pytest

from placement import errors
from placement.api import jsonio

UTC = datetime.timezone.utc
MOMENTS = [datetime.datetime(2000, 1, 1), datetime.datetime(1999, 12, 31, 23,
                                                            59, 59, 999999),
           datetime.datetime(2026, 2, 28, 7, 5, 3, 120),
           datetime.datetime(2024, 2, 29, 12, 0, 0)] + [
    datetime.datetime(2026, month, 3 + month, month, 2 * month, 3 * month)
    for month in range(1, 13)]


@pytest.mark.parametrize('moment', MOMENTS)
def test_naive_moments_are_utc(moment):
    assert jsonio.http_date(moment) == email.utils.format_datetime(
        moment.replace(tzinfo=UTC), usegmt=True)


@pytest.mark.parametrize('hours', [-11, -3, 0, 5, 14])
def test_aware_moments_are_given_in_gmt(hours):
    moment = datetime.datetime(2026, 11, 23, 23, 30, 15,
                               tzinfo=datetime.timezone(
                                   datetime.timedelta(hours=hours)))
    assert jsonio.http_date(moment) == email.utils.format_datetime(
        moment.astimezone(UTC), usegmt=True)


def test_no_moment_is_now():
    before = email.utils.format_datetime(datetime.datetime.now(UTC),
                                         usegmt=True)
    now = jsonio.http_date()
    after = email.utils.format_datetime(datetime.datetime.now(UTC),
                                        usegmt=True)
    assert now in (before, after)


def body_request(body):
    return falcon.testing.create_req(
        method='POST', body=body, headers={'Content-Type': 'application/json'})


@pytest.mark.parametrize('body', [
    rb'{"name": "half \ud800"}',
    rb'{"name": "low half \uDC00 alone"}',
    rb'{"deep": ["x", {"\ud800": "in a key"}]}',
], ids=['escaped-high', 'escaped-low', 'escaped-key'])
def test_half_surrogate_pairs_are_refused(body):
    with pytest.raises(errors.HTTPError) as raised:
        jsonio.read(body_request(body))
    assert raised.value.status == 400
    assert 'half of a surrogate pair' in raised.value.detail


@pytest.mark.parametrize('body, detail', [
    # Half a surrogate pair as UTF-8 bytes (which json.loads takes).
    (b'{"name": "half \xed\xa0\x80"}', "Malformed JSON: 'utf-8' codec "
     "can't decode byte 0xed in position 15: invalid continuation byte"),
    (b'\xff\xfe{}', "Malformed JSON: 'utf-8' codec can't decode byte 0xff "
     "in position 0: invalid start byte"),
    ('{"name": "x"}'.encode('utf-16'), "Malformed JSON: 'utf-8' codec "
     "can't decode byte 0xff in position 0: invalid start byte"),
    (b'\xef\xbb\xbf{"name": "x"}', 'Malformed JSON: Unexpected UTF-8 BOM '
     '(decode using utf-8-sig): line 1 column 1 (char 0)'),
], ids=['utf8-surrogate', 'latin1', 'utf16', 'bom'])
def test_only_utf8_is_read(body, detail):
    with pytest.raises(errors.HTTPError) as raised:
        jsonio.read(body_request(body))
    assert (raised.value.status, raised.value.detail) == (400, detail)


@pytest.mark.parametrize('body, expected', [
    (rb'{"name": "smile \ud83d\ude00"}', 'smile \U0001F600'),
    ('{"name": "\u00e9\u4e2d\U0001F600"}'.encode('utf-8'),
     '\u00e9\u4e2d\U0001F600'),
    # An escaped backslash before "ud800": text.
    (rb'{"name": "\\ud800"}', '\\ud800'),
    (b'{"name": "\xed\x9f\xbf"}', '\ud7ff'),
    # (The schemas say where a NUL is refused.)
    (rb'{"name": "nul \u0000"}', 'nul \x00'),
], ids=['pair', 'utf8', 'backslash', 'below-surrogates', 'nul'])
def test_other_strings_are_read(body, expected):
    assert jsonio.read(body_request(body)) == {'name': expected}


@pytest.mark.parametrize('depth', [100000, 600],
                         ids=['beyond-the-decoder', 'beyond-the-schema-check'])
def test_nesting_too_deep_is_refused(depth):
    body = b'{"name": ' + b'[' * depth + b']' * depth + b'}'
    with pytest.raises(errors.HTTPError) as raised:
        jsonio.read(body_request(body),
                    {'type': 'object',
                     'properties': {'name': {'type': 'string'}}})
    assert raised.value.status == 400
    assert 'nested too deeply' in raised.value.detail
