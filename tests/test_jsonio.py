"""placement.api.jsonio's HTTP dates against the standard library's."""

import datetime
import email.utils

import pytest

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
