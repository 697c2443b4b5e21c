"""Check digits of the party's identifiers, and their masking. No I/O.

Unified social credit code: GB 32100-2015 (18 characters, check character mod 31).
Resident identity number: GB 11643-1999 (18 characters, ISO 7064 MOD 11-2).
"""

from __future__ import annotations

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_CHECK = "10X98765432"


def credit_code_valid(code: str) -> bool:
    """True when `code` is 18 characters of the GB 32100 set with the right check character."""
    if len(code) != 18 or any(c not in CREDIT_CHARSET for c in code):
        return False
    total = sum(CREDIT_CHARSET.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARSET[(31 - total % 31) % 31] == code[17]


def id_number_valid(number: str) -> bool:
    """True when `number` is 17 digits and the GB 11643 check character (digit or X)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17].upper()


def mask_id_number(number: str) -> str:
    """The first 4 and last 2 characters; the birth date and sequence are hidden."""
    return number[:4] + "*" * max(len(number) - 6, 0) + number[-2:] if len(number) > 6 else "*" * 6


def mask_name(name: str) -> str:
    """张某某 style: the first character, then 某某 whatever the name's length."""
    return (name.strip()[:1] + "某某") if name.strip() else "某某"
