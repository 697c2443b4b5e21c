"""Showing personal data only as much as needed."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """`13800138000` → `138****8000`; short numbers keep only their last two digits."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


# Headers of every answer that holds personal data (an original photo, a reporter's
# contact): never sniffed as another type, never stored by a browser or a proxy.
PERSONAL_RESPONSE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}
