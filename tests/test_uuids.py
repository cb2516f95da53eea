"""placement/uuids.py: the spellings of a uuid Placement accepts, and
their canonical form."""

import random
import uuid

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


OTHER = '7a1e5c62-0a3f-4b8e-9d1c-2f6b8e4a9c10'


@pytest.mark.parametrize('values', [
    [], [CANONICAL], [CANONICAL, OTHER], [OTHER] * 3])
def test_lists_of_canonical_uuids(values):
    assert uuids.all_canonical(values)


@pytest.mark.parametrize('values', [
    [CANONICAL.upper()], [CANONICAL, OTHER.replace('-', '')],
    ['%s,%s' % (CANONICAL, OTHER)], ['%s,%s' % (CANONICAL, OTHER), ''],
    [CANONICAL + 'a', OTHER[1:]], [CANONICAL, 1], [CANONICAL, None],
    [CANONICAL[:-1] + 'é'], ['-' * 36], [',' * 36],
    [CANONICAL[:8] + 'a' + CANONICAL[9:]]])
def test_lists_with_another_item(values):
    assert not uuids.all_canonical(values)


def test_lists_agree_with_the_items_one_by_one():
    # Random edits of random uuids, judged both ways.
    rng = random.Random(20261123)
    alphabet = '0123456789abcdefABG-,{} é'
    for _ in range(20000):
        values = []
        for _ in range(rng.randint(1, 4)):
            chars = list(str(uuid.UUID(int=rng.getrandbits(128))))
            for _ in range(rng.choice([0, 0, 1, 2])):
                pos = rng.randrange(len(chars))
                edit = rng.random()
                if edit < 0.4:
                    chars[pos] = rng.choice(alphabet)
                elif edit < 0.7:
                    del chars[pos]
                else:
                    chars.insert(pos, rng.choice(alphabet))
            values.append(''.join(chars))
        one_by_one = all(uuids.normalize(v) == v for v in values)
        assert uuids.all_canonical(values) == one_by_one, values
