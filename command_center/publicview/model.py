"""The one public view of a clue (issue 15, finding 2), FixMyStreet-style. No I/O.

Anonymous callers of the Open311 list and detail and of the resident's progress view
see the same thing: only clues of the public channels (OPEN311_PUBLIC_CHANNELS), their
description with personal data masked (or the text an operator wrote instead, or
nothing once an operator hid it), and a position snapped to a grid of
PUBLIC_LOCATION_PRECISION_M metres. A partner calling with an api_key sees what
OPEN311_PARTNER_VIEW grants.

Masking is by pattern (phone numbers, 18-digit resident ID numbers, bank cards, e-mail
addresses, a name after 我叫/姓名/联系人): it catches what residents commonly type, not
every way of writing a number; the moderation step is there for the rest.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum

METRES_PER_DEGREE = 111_320.0  # of latitude; of longitude times cos(latitude)
MASK = "***"


class PartnerView(StrEnum):
    """What a caller with a valid api_key sees (setting OPEN311_PARTNER_VIEW)."""

    PUBLIC = "public"  # the same as anyone
    EXACT_POSITIONS = "exact_positions"  # the public view with unrounded positions
    FULL = "full"  # every channel, the text as typed, exact positions


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is looking, as a set of permissions."""

    channels: frozenset[str] | None  # None: every channel
    precision_m: float  # 0: exact
    mask: bool

    @classmethod
    def anonymous(cls, *, channels: frozenset[str], precision_m: float) -> Audience:
        return cls(channels=channels, precision_m=precision_m, mask=True)

    @classmethod
    def partner(
        cls, view: PartnerView, *, channels: frozenset[str], precision_m: float
    ) -> Audience:
        if view is PartnerView.FULL:
            return cls(channels=None, precision_m=0.0, mask=False)
        exact = view is PartnerView.EXACT_POSITIONS
        return cls(channels=channels, precision_m=0.0 if exact else precision_m, mask=True)


@dataclass(frozen=True, slots=True)
class PublicPolicy:
    """The settings of the public view: OPEN311_PUBLIC_CHANNELS,
    PUBLIC_LOCATION_PRECISION_M and OPEN311_PARTNER_VIEW."""

    channels: frozenset[str]
    precision_m: float
    partner_view: PartnerView

    def anonymous(self) -> Audience:
        return Audience.anonymous(channels=self.channels, precision_m=self.precision_m)

    def partner(self) -> Audience:
        return Audience.partner(
            self.partner_view, channels=self.channels, precision_m=self.precision_m
        )


# Longest first: an ID number or a bank card is not first taken for a phone number.
_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII),  # e-mail
    re.compile(r"(?<!\d)\d{6}(?:18|19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![\dXx])"),  # 身份证
    re.compile(r"(?<!\d)\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?!\d)"),  # bank card
    re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"),  # mobile
    re.compile(r"(?<!\d)0\d{2,3}[ -]?\d{7,8}(?!\d)"),  # landline with area code
)
_NAME = re.compile(r"(我叫|姓名[:：]?|联系人[:：]?|本人姓名[:：]?)\s*[\u4e00-\u9fff·]{1,4}")


def mask_personal(text: str) -> str:
    """`text` with phone numbers, ID numbers, bank cards, e-mail addresses and a name
    after 我叫/姓名/联系人 replaced by ***."""
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return _NAME.sub(lambda found: found.group(1) + MASK, text)


def public_text(description: str, *, moderated: str | None, hidden: bool, mask: bool) -> str | None:
    """The description the public sees: None once hidden; an operator's moderated text
    as written; otherwise the resident's, masked for masked audiences."""
    if hidden:
        return None
    if moderated is not None:
        return moderated
    return mask_personal(description) if mask else description


def snap(lon: float, lat: float, precision_m: float) -> tuple[float, float]:
    """The centre of the grid cell of about `precision_m` metres holding the point
    (exact for 0). The same point always snaps to the same place, so repeated looks
    tell nothing more than one."""
    if precision_m <= 0:
        return lon, lat
    lat_step = precision_m / METRES_PER_DEGREE
    snapped_lat = (math.floor(lat / lat_step) + 0.5) * lat_step
    lon_step = lat_step / max(math.cos(math.radians(snapped_lat)), 0.01)
    snapped_lon = (math.floor(lon / lon_step) + 0.5) * lon_step
    return round(snapped_lon, 6), round(snapped_lat, 6)
