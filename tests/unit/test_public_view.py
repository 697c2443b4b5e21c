"""The one public view of a clue: masking, moderation, rounding (issue 15, finding 2)."""

from __future__ import annotations

import math

import pytest

from command_center.publicview.model import (
    Audience,
    PartnerView,
    PublicPolicy,
    mask_personal,
    public_text,
    snap,
)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("call me 13911112222", "call me ***"),
        ("电话 139 1111 2222 谢谢", "电话 *** 谢谢"),
        ("+86 13911112222", "***"),
        ("座机0578-2123456", "座机***"),
        ("身份证33110219800101123X", "身份证***"),
        ("卡号6222021234567890123", "卡号***"),
        ("卡号 6222 0212 3456 7890", "卡号 ***"),
        ("邮箱 zhang.san@example.cn 谢谢", "邮箱 *** 谢谢"),
        ("我叫张三 住3栋", "我叫*** 住3栋"),
        ("联系人：李四", "联系人：***"),
    ],
)
def test_personal_data_is_masked(typed: str, shown: str) -> None:
    assert mask_personal(typed) == shown


def test_ordinary_text_and_short_numbers_are_left_alone() -> None:
    text = "3栋楼下 5 个摊位，占道约 20 米，2026 年 12 月起"
    assert mask_personal(text) == text


def test_moderation_wins_and_hiding_shows_nothing() -> None:
    typed = "call me 13911112222"
    assert public_text(typed, moderated=None, hidden=False, mask=True) == "call me ***"
    assert public_text(typed, moderated=None, hidden=False, mask=False) == typed
    assert public_text(typed, moderated="路边摆摊", hidden=False, mask=True) == "路边摆摊"
    assert public_text(typed, moderated="路边摆摊", hidden=True, mask=True) is None


def test_snapping_moves_a_point_less_than_the_precision_and_always_to_the_same_place() -> None:
    exact = (119.92213, 28.46587)
    lon, lat = snap(*exact, 100)
    dx = (lon - exact[0]) * 111_320 * math.cos(math.radians(lat))
    assert 0 < math.hypot(dx, (lat - exact[1]) * 111_320) < 100
    assert snap(*exact, 100) == snap(exact[0] + 0.00001, exact[1] + 0.00001, 100)
    assert snap(*exact, 0) == exact


def test_what_a_partner_key_grants() -> None:
    policy = PublicPolicy(frozenset({"open311"}), 100.0, PartnerView.PUBLIC)
    assert policy.partner() == policy.anonymous()
    exact = PublicPolicy(frozenset({"open311"}), 100.0, PartnerView.EXACT_POSITIONS).partner()
    assert exact == Audience(channels=frozenset({"open311"}), precision_m=0.0, mask=True)
    full = PublicPolicy(frozenset({"open311"}), 100.0, PartnerView.FULL).partner()
    assert full.channels is None and not full.mask and full.precision_m == 0
    assert policy.anonymous().channels == frozenset({"open311"})
