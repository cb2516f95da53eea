"""placement/uuids.py: the spellings of a uuid Placement accepts, and
their canonical form."""

import pytest

from placement import uuids

CANONICAL = '5d9c0bd7-0b32-4c52-8c2c-94c6a1b1f2a4'
SPELLINGS = [CANONICAL, CANONICAL.upper(), CANONICAL.replace('-', ''),
             '{%s}' % CANONICAL, 'urn:uuid:%s' % CANONICAL]
NOT_UUIDS = [None, 1, b'x', '', 'not-a-uuid', CANONICAL + '\n',
             CANONICAL[:-1], CANONICAL + '0', CANONICAL.replace('d', 'g'),
             ' %s' % CANONICAL, [CANONICAL], CANONICAL * 3]


@pytest.mark.parametrize('value', SPELLINGS, ids=lambda _: 'spelling')
def test_spellings_normalize_to_the_canonical_form(value):
    assert uuids.normalize(value) == CANONICAL
    assert uuids.is_uuid(value)


@pytest.mark.parametrize('value', NOT_UUIDS, ids=lambda _: 'other')
def test_other_values_are_no_uuid(value):
    assert uuids.normalize(value) is None
    assert not uuids.is_uuid(value)


def test_answers_do_not_change_when_asked_again():
    for _ in range(2):
        assert [uuids.normalize(v) for v in SPELLINGS] == \
            [CANONICAL] * len(SPELLINGS)
        assert not any(uuids.is_uuid(v) for v in NOT_UUIDS)
