"""TOTP secrets sealed at rest (AES-256-GCM) and password age, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from command_center.accounts.model import password_expired
from command_center.accounts.totp_vault import TotpVault, VaultError

OLD = "o" * 40
NEW = "n" * 40


def test_a_sealed_secret_does_not_show_and_opens_for_its_account_only() -> None:
    vault = TotpVault.from_materials(OLD)
    secret = pyotp.random_base32()
    sealed = vault.seal(secret, user_id=7)
    assert sealed.startswith("enc1:") and secret not in sealed
    assert vault.seal(secret, user_id=7) != sealed  # a fresh nonce every time
    assert vault.open(sealed, user_id=7) == secret
    with pytest.raises(VaultError, match="does not open"):
        vault.open(sealed, user_id=8)  # copied onto another account


def test_a_rotation_opens_old_secrets_until_they_are_sealed_again() -> None:
    secret = pyotp.random_base32()
    sealed_old = TotpVault.from_materials(OLD).seal(secret, user_id=1)
    rotated = TotpVault.from_materials(NEW, [OLD])
    assert rotated.needs_reseal(sealed_old)
    assert rotated.open(sealed_old, user_id=1) == secret
    resealed = rotated.seal(secret, user_id=1)
    assert not rotated.needs_reseal(resealed)
    with pytest.raises(VaultError, match="unknown key"):
        TotpVault.from_materials(NEW).open(sealed_old, user_id=1)
    with pytest.raises(VaultError, match="not sealed"):
        rotated.open(secret, user_id=1)


def test_a_tampered_secret_does_not_open() -> None:
    vault = TotpVault.from_materials(OLD)
    sealed = vault.seal(pyotp.random_base32(), user_id=3)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(VaultError):
        vault.open(tampered, user_id=3)


def test_a_password_ages_after_the_configured_days_and_not_when_off() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    age = timedelta(days=90)
    assert password_expired(changed_at=now - timedelta(days=90), now=now, max_age=age)
    assert not password_expired(changed_at=now - timedelta(days=89), now=now, max_age=age)
    assert not password_expired(changed_at=now - timedelta(days=900), now=now, max_age=None)
