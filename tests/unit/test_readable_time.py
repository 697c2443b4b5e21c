"""Times as people read them (command_center/readable_time.py)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from command_center.readable_time import chinese, chinese_iso

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_a_utc_moment_is_shown_in_the_citys_zone_without_padding() -> None:
    moment = datetime(2026, 12, 3, 10, 37, 58, tzinfo=UTC)
    assert chinese(moment, SHANGHAI, year=False) == "12月3日 18:37"
    assert chinese(moment, SHANGHAI, year=True) == "2026年12月3日 18:37"
    assert chinese_iso("2026-12-03T18:37:58+08:00", SHANGHAI).endswith("12月3日 18:37")


def test_the_year_shows_only_when_it_is_not_this_one() -> None:
    now = datetime.now(SHANGHAI)
    assert chinese(now, SHANGHAI) == f"{now.month}月{now.day}日 {now:%H:%M}"
    old = datetime(now.year - 1, 6, 1, 9, 5, tzinfo=SHANGHAI)
    assert chinese(old, SHANGHAI).startswith(f"{old.year}年")


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="without a zone"):
        chinese(datetime(2026, 12, 3, 18, 37), SHANGHAI)
