"""Request and response shapes of sign-in, the account and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from command_center.accounts.repository import TokenRow, UserRow
from command_center.privacy import mask_phone

AlertChannel = Literal["sms", "dingtalk", "wecom"]


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


class AccountIn(BaseModel):
    login: str = Field(min_length=2, max_length=64)
    role: str = Field(max_length=40)
    name: str = Field(default="", max_length=100)
    squad: str | None = Field(default=None, max_length=40)
    jurisdiction: str | None = Field(default=None, max_length=40)
    officer_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=30)
    department: str = Field(default="", max_length=100)
    wecom_userid: str | None = Field(default=None, min_length=1, max_length=64)
    dingtalk_userid: str | None = Field(default=None, min_length=1, max_length=64)
    preferred_channel: AlertChannel | None = Field(
        default=None, description="Where alerts go first; unset: DingTalk, WeCom, then SMS."
    )
    quiet_hours: str | None = Field(
        default=None,
        max_length=11,
        description="HH:MM-HH:MM, local time (may span midnight): alerts wait until its end; "
        "empty clears.",
    )


class AccountPatch(BaseModel):
    """Only the fields sent are changed; `null` clears squad or jurisdiction."""

    name: str | None = Field(default=None, max_length=100)
    officer_number: str | None = Field(default=None, max_length=40)
    phone: str | None = Field(default=None, max_length=30)
    department: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=40)
    squad: str | None = Field(default=None, max_length=40)
    jurisdiction: str | None = Field(default=None, max_length=40)
    active: bool | None = None
    wecom_userid: str | None = Field(default=None, min_length=1, max_length=64)
    dingtalk_userid: str | None = Field(default=None, min_length=1, max_length=64)
    preferred_channel: AlertChannel | None = None
    quiet_hours: str | None = Field(
        default=None,
        max_length=11,
        description="HH:MM-HH:MM, local time (may span midnight): alerts wait until its end; "
        "empty clears.",
    )

    def changes(self) -> dict[str, object]:
        renamed = {"name": "full_name"}
        return {renamed.get(key, key): getattr(self, key) for key in self.model_fields_set}


class AccountOut(BaseModel):
    id: int
    login: str
    name: str
    officer_number: str | None
    phone: str | None = Field(description="Masked: 138****8000.")
    department: str
    role: str
    squad: str | None
    jurisdiction: str | None
    active: bool
    password_change_required: bool
    second_factor: bool
    wecom_userid: str | None = None
    dingtalk_userid: str | None = None
    preferred_channel: str | None = None
    quiet_hours: str | None = None

    @classmethod
    def of(cls, user: UserRow) -> AccountOut:
        return cls(
            id=user.id,
            login=user.login,
            name=user.full_name,
            officer_number=user.officer_number,
            phone=mask_phone(user.phone),
            department=user.department,
            role=user.role,
            squad=user.squad_code,
            jurisdiction=user.jurisdiction_code,
            active=user.active,
            password_change_required=user.password_change_required,
            second_factor=user.totp_secret is not None,
            wecom_userid=user.wecom_userid,
            dingtalk_userid=user.dingtalk_userid,
            preferred_channel=user.preferred_channel,
            quiet_hours=user.quiet_hours,
        )


class AccountCreated(AccountOut):
    password: str = Field(description="The first password; shown only in this answer.")
