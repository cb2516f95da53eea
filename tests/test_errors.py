"""Error bodies, byte for byte, and the choice of their media type.

The expected bodies are those OpenStack Placement answered to the same
requests (request ids aside).
"""

import json

import pytest

from placement import errors
from placement import middleware
from placement import microversion

ASKED = {'method': 'PATCH', 'accept': 'text/plain',
         'content_type': 'text/plain'}


def _json(error, version=(1, 30), asked=ASKED):
    media, body = errors.render(error, 'req-1', version, 'application/json',
                                asked)
    assert media == 'application/json'
    return json.loads(body)['errors'][0]


def test_json_entry_in_order_with_code_from_1_23():
    error = errors.HTTPError(404, 'No resource provider with uuid x found')
    entry = _json(error)
    assert list(entry) == ['status', 'title', 'detail', 'code', 'request_id']
    assert entry['detail'] == ('The resource could not be found.\n\n'
                               ' No resource provider with uuid x found  ')
    assert 'code' not in _json(error, version=(1, 22))
    assert 'code' not in _json(error, version=None)


def test_empty_detail_keeps_its_paragraph():
    assert _json(errors.HTTPError(404))['detail'] == (
        'The resource could not be found.\n\n   ')


def test_line_ends_become_spaces_and_tags_go():
    error = errors.HTTPError(400, "a\n    {'b': 1,\n     'c': 2}\r\n<i>x</i>")
    assert _json(error)['detail'] == (
        'The server could not comply with the request since it is either '
        "malformed or otherwise incorrect.\n\n a     {'b': 1,      'c': 2}"
        ' x  ')


def test_breaks_in_a_detail_become_line_ends():
    assert _json(errors.HTTPError(409, 'one<br/>two'))['detail'].endswith(
        ' one\ntwo  ')


@pytest.mark.parametrize('status, detail, expected', [
    (405, 'The method specified is not allowed for this resource.',
     'The method PATCH is not allowed for this resource. \n\n The method '
     'specified is not allowed for this resource.'),
    (406, 'Only application/json is provided',
     'The resource could not be generated that was acceptable to your '
     'browser (content of type text/plain. \n\n Only application/json is '
     'provided'),
    (415, 'The media type text/plain is not supported, use application/json',
     'The request media type text/plain is not supported by this server. '
     '\n\n The media type text/plain is not supported, use application/json'),
])
def test_bodies_naming_the_request(status, detail, expected):
    assert _json(errors.HTTPError(status, detail))['detail'] == expected


def test_plain_text():
    media, body = errors.render(
        errors.HTTPError(405, 'The method specified is not allowed for '
                              'this resource.'),
        'req-1', (1, 30), 'text/plain', ASKED)
    assert media == 'text/plain; charset=UTF-8'
    assert body == (b'405 Method Not Allowed\n\nThe method PATCH is not '
                    b'allowed for this resource. \n\n The method specified '
                    b'is not allowed for this resource.')
    media, body = errors.render(errors.HTTPError(404), 'req-1', (1, 0),
                                'text/plain', ASKED)
    assert body == (b'404 Not Found\n\nThe resource could not be found.'
                    b'\n\n   ')


def test_html():
    media, body = errors.render(
        errors.HTTPError(406, 'Invalid microversion: Unacceptable version '
                              'header: 1.40'),
        'req-1', None, 'text/html',
        {'method': 'GET', 'accept': 'text/*', 'content_type': 'None'})
    assert media == 'text/html; charset=UTF-8'
    assert body == (
        b'<html>\n <head>\n  <title>406 Not Acceptable</title>\n </head>\n'
        b' <body>\n  <h1>406 Not Acceptable</h1>\n  The resource could not '
        b'be generated that was acceptable to your browser\n(content of '
        b'type text/*. <br /><br />\nInvalid microversion: Unacceptable '
        b'version header: 1.40\n </body>\n</html>')
    media, body = errors.render(errors.HTTPError(404, 'No <b>x</b> é'),
                                'req-1', (1, 0), 'text/html', ASKED)
    assert body.endswith(b'  The resource could not be found.<br /><br />\n'
                         b'No &lt;b&gt;x&lt;/b&gt; &#233;\n\n\n </body>\n'
                         b'</html>')


@pytest.mark.parametrize('status', [400, 404, 405, 406, 409, 415])
@pytest.mark.parametrize('detail', [
    '', 'plain', 'two\nlines\r\n', 'a <b>tag</b>', 'a < b > c', 'x <br/> y',
    'a --> b', '<!-- c -->', 'ends with --', '> first', '100% sure'])
def test_text_is_the_filled_template_as_text(status, detail):
    """Details without tags take a shorter way; it gives the same text."""
    asked = {'method': 'PUT', 'accept': 'text/plain;q=0.5 -->',
             'content_type': 'x/y\n'}
    error = errors.HTTPError(status, detail)
    filled = errors._BODIES.get(status, errors._BODY) % errors._values(
        error, asked)
    assert errors._text(error, asked) == errors._as_text(filled)
    asked['accept'] = 'text/plain'
    filled = errors._BODIES.get(status, errors._BODY) % errors._values(
        error, asked)
    assert errors._text(error, asked) == errors._as_text(filled)


def test_unsaid_values():
    entry = _json(errors.HTTPError(415, 'no'), asked={'method': 'POST'})
    assert entry['detail'].startswith(
        'The request media type None is not supported')


@pytest.mark.parametrize('header, status, detail', [
    ('placement 1', 400, 'Invalid microversion: invalid version string: 1; '
     "Version.__new__() missing 1 required positional argument: 'minor'"),
    ('placement x.y', 400, 'Invalid microversion: invalid version string: '
     "x.y; invalid literal for int() with base 10: 'x'"),
    ('placement 1.2.3', 400, 'Invalid microversion: invalid version string: '
     "1.2.3; invalid literal for int() with base 10: '2.3'"),
    ('placement LATEST', 400, 'Invalid microversion: invalid version string: '
     "LATEST; invalid literal for int() with base 10: 'LATEST'"),
    ('placement 1.40', 406, 'Invalid microversion: Unacceptable version '
     'header: 1.40'),
    ('placement -1.5', 406, 'Invalid microversion: Unacceptable version '
     'header: -1.5'),
], ids=['no-minor', 'letters', 'three-parts', 'upper-case-latest',
        'above-max', 'negative'])
def test_bad_versions(header, status, detail):
    with pytest.raises(errors.HTTPError) as caught:
        microversion.parse(header)
    assert (caught.value.status, caught.value.detail) == (status, detail)
    if status == 406:
        assert caught.value.fields == {'max_version': '1.39',
                                       'min_version': '1.0'}
        assert _json(caught.value, version=None)['max_version'] == '1.39'


@pytest.mark.parametrize('header, expected', [
    ('placement latest', microversion.MAX_VERSION),
    ('PLACEMENT 1.01', (1, 1)),
    ('compute 2.1, placement 1.5', (1, 5)),
    ('placement 1.5, placement 1.7', (1, 7)),
    ('compute 2.1', microversion.MIN_VERSION),
    ('placement  1. 5', (1, 5)),
])
def test_good_versions(header, expected):
    assert microversion.parse(header) == expected


class _Request:
    def __init__(self, accept):
        self.accept = accept

    def get_header(self, name):
        assert name == 'Accept'
        return self.accept


@pytest.mark.parametrize('accept, media', [
    (None, 'application/json'),
    ('*/*', 'application/json'),
    ('application/json', 'application/json'),
    ('Application/JSON', 'application/json'),
    ('text/html, application/json', 'text/html'),
    ('application/json, text/html', 'text/html'),
    ('application/json;q=0.5, text/html;q=0.4', 'application/json'),
    ('text/*', 'text/html'),
    ('application/*', 'application/json'),
    ('*/*;q=0.1, text/html;q=0', 'application/json'),
    ('text/plain', 'text/plain'),
    ('image/png', 'text/plain'),
    ('application/json; level=1', 'text/plain'),
    ('application/json;q=0.9;level=1', 'application/json'),
    ('text/html;level=1, application/json;q=0.9', 'application/json'),
    ('foo', 'text/html'),
    ('application/json;q=2', 'text/html'),
])
def test_error_media(accept, media):
    assert middleware.error_media(_Request(accept)) == media
