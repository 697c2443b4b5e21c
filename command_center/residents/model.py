"""Progress codes: what opens a tip's progress (issue 15, finding 3). No I/O.

A code is 11 random characters from an alphabet without look-alikes (no 0/O, 1/I/L)
and a check character: 31 characters, so 31**11 ≈ 2.5 × 10**16 codes, none guessable by
counting as the old date-and-counter codes were. The check character makes the weighted
sum Σ (i + 1) · value(cᵢ) over all 12 characters divisible by 31; as 31 is prime and
the weights differ, every single mistyped character and every swap of two characters
is caught before the database is asked. The database generates the codes (migration
0013, `new_progress_code()`), with the same rule; the human-readable case number
(`service_request_id`) stays for staff documents and Open311.
"""

from __future__ import annotations

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MODULUS = len(ALPHABET)  # 31, a prime
BODY_LENGTH = 11
LENGTH = BODY_LENGTH + 1
_VALUE = {ch: n for n, ch in enumerate(ALPHABET)}
_INVERSE_OF_LAST_WEIGHT = pow(LENGTH, -1, MODULUS)


def check_character(body: str) -> str:
    """The character that completes `body` (BODY_LENGTH characters of ALPHABET)."""
    if len(body) != BODY_LENGTH or any(ch not in _VALUE for ch in body):
        raise ValueError(f"a code body is {BODY_LENGTH} characters of {ALPHABET}")
    total = sum((i + 1) * _VALUE[ch] for i, ch in enumerate(body))
    return ALPHABET[(-total * _INVERSE_OF_LAST_WEIGHT) % MODULUS]


def normalise(typed: str) -> str:
    """What a person typed, as a code: upper case, without spaces and hyphens."""
    return typed.strip().upper().replace("-", "").replace(" ", "")


def is_well_formed(code: str) -> bool:
    """Whether `code` (normalised) has the length, the alphabet and the check character."""
    if len(code) != LENGTH or any(ch not in _VALUE for ch in code):
        return False
    return sum((i + 1) * _VALUE[ch] for i, ch in enumerate(code)) % MODULUS == 0


def grouped(code: str) -> str:
    """For reading aloud and printing: `ABCD-EFGH-JKMN`."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
