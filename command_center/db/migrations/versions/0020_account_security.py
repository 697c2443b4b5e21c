"""Accounts, second part: TOTP secrets sealed at rest, and password age.

Revision ID: 0020
Revises: 0015

- `users.password_changed_at`: when the password was last set (existing accounts count
  from this upgrade); a sign-in past `PASSWORD_MAX_AGE_DAYS` must change it.
- `users.totp_secret`: every stored secret is sealed (AES-256-GCM, key from `TOTP_KEY`
  or `SECRET_KEY`: accounts/totp_vault.py). Plain secrets of the previous release are
  sealed here, so the upgrade needs that key in the environment when any exists; the
  check constraint then refuses a plain secret for good. Downgrade opens those the key
  opens (others stay sealed: their accounts cannot pass the second factor, closed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from alembic import op
from sqlalchemy import text

if TYPE_CHECKING:
    from command_center.accounts.totp_vault import TotpVault

revision = "0020"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None


def _vault() -> TotpVault:
    from command_center.accounts.totp_vault import TotpVault
    from command_center.settings import load_settings

    materials = load_settings().totp_key_materials()
    if materials is None:
        raise RuntimeError(
            "accounts hold TOTP secrets to seal: set TOTP_KEY or SECRET_KEY for the upgrade"
        )
    return TotpVault.from_materials(*materials)


def _rewrite(rows: Sequence[Any], change: Callable[..., str]) -> None:
    for user_id, secret in rows:
        op.get_bind().execute(
            text("UPDATE users SET totp_secret = :s WHERE id = :i"),
            {"s": change(secret, user_id=user_id), "i": user_id},
        )


def _opens(vault: TotpVault, row: Any) -> bool:
    from command_center.accounts.totp_vault import VaultError

    try:
        vault.open(row[1], user_id=row[0])
    except VaultError:
        return False
    return True


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(
        "ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now()"
    )
    plain = bind.execute(
        text("SELECT id, totp_secret FROM users WHERE totp_secret NOT LIKE 'enc1:%'")
    ).all()
    if plain:
        _rewrite(plain, _vault().seal)
    op.execute(
        "ALTER TABLE users ADD CONSTRAINT users_totp_secret_sealed "
        "CHECK (totp_secret LIKE 'enc1:%')"
    )


def downgrade() -> None:
    bind = op.get_bind()
    op.execute("ALTER TABLE users DROP CONSTRAINT users_totp_secret_sealed")
    sealed = bind.execute(
        text("SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL")
    ).all()
    if sealed:
        vault = _vault()
        # A secret sealed with another key (a test database rebuilt under a new SECRET_KEY,
        # a lost key) stays sealed: the previous release then refuses its codes (closed).
        _rewrite([row for row in sealed if _opens(vault, row)], vault.open)
    op.execute("ALTER TABLE users DROP COLUMN password_changed_at")
