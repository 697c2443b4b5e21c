"""The SQL of single sign-on: the account a claim value names (the accounts' own row
shape, `repository.UserRow`)."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.accounts.repository import USER_COLUMNS, UserRow

AccountField = Literal["officer_number", "login"]
# The column of each field; never a caller's text in SQL.
_COLUMNS: dict[AccountField, str] = {"officer_number": "u.officer_number", "login": "u.login"}


async def user_by_field(session: AsyncSession, field: AccountField, value: str) -> UserRow | None:
    """The account whose field equals value (both unique columns), active or not."""
    row = (
        await session.execute(
            text(f"SELECT {USER_COLUMNS} FROM users u WHERE {_COLUMNS[field]} = :value"),
            {"value": value},
        )
    ).one_or_none()
    return UserRow(*row) if row else None  # USER_COLUMNS in UserRow's order
