"""Request and response shapes of sign-in, the account and tokens."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from command_center.accounts.repository import TokenRow, UserRow


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    totp: str | None = Field(default=None, max_length=32)


class UserOut(BaseModel):
    login: str
    name: str
    role: str
    squad: str | None
    jurisdiction: str | None

    @classmethod
    def of(cls, user: UserRow) -> UserOut:
        return cls(
            login=user.login,
            name=user.full_name,
            role=user.role,
            squad=user.squad_code,
            jurisdiction=user.jurisdiction_code,
        )


class LoginOut(BaseModel):
    csrf_token: str
    user: UserOut
    password_change_required: bool


class MeOut(UserOut):
    password_change_required: bool = False


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class PasswordOut(BaseModel):
    password_change_required: bool


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int = Field(ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str
    kind: str
    role: str
    squad: str | None
    jurisdiction: str | None
    device: str | None
    created_at: datetime
    expires_at: datetime
    revoked: bool

    @classmethod
    def of(cls, row: TokenRow) -> TokenOut:
        return cls(
            id=row.id,
            name=row.name,
            kind=row.kind,
            role=row.role,
            squad=row.squad_code,
            jurisdiction=row.jurisdiction_code,
            device=row.device,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None,
        )


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown only in this answer.")
