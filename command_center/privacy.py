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
