"""Named people: accounts, roles as data, server-side sessions, failed sign-ins, tokens as
records.

Revision ID: 0012
Revises: 0011

Sessions are keyed by the SHA-256 of the cookie's value, so a copy of this table opens
no session. Tokens minted by the release before carry no record (see docs/accounts.md:
LEGACY_TOKENS_UNTIL).
"""

from __future__ import annotations

import json

from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

# The default bundles, as accounts.model.DEFAULT_ROLES has them when this ran; a
# security_admin may define more (tests/unit/test_accounts_model.py keeps the two equal).
DEFAULT_ROLES: dict[str, tuple[str, str | None, list[str]]] = {
    "operator": (
        "指挥调度员",
        None,
        ["clue.view", "clue.dispatch", "clue.close", "clue.report", "token.own"],
    ),
    "squad": ("执法队员", None, ["clue.view", "clue.handle", "token.own"]),
    "grid_worker": ("网格员", None, ["clue.view", "clue.report", "token.own"]),
    "supervisor": (
        "督办人员",
        None,
        ["clue.view", "clue.close", "case.review", "supervision.manage", "token.own"],
    ),
    "admin": (
        "系统管理员",
        "system",
        ["user.manage", "reference.manage", "device.register", "clue.view", "token.own"],
    ),
    "security_admin": (
        "安全管理员",
        "security",
        ["role.manage", "scope.manage", "lock.manage", "session.manage", "security.policy"],
    ),
    "auditor": ("安全审计员", "audit", ["audit.read"]),
}

UPGRADE = """
CREATE TABLE roles (
    name         text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{1,39}$'),
    title        text NOT NULL,
    duty         text CHECK (duty IN ('system', 'security', 'audit')),
    permissions  text[] NOT NULL,
    builtin      boolean NOT NULL DEFAULT false
);

CREATE TABLE users (
    id                        bigserial PRIMARY KEY,
    login                     text NOT NULL CHECK (login ~ '^[a-z0-9][a-z0-9._-]{1,63}$'),
    full_name                 text NOT NULL DEFAULT '',
    officer_number            text CHECK (officer_number <> ''),
    phone                     text,
    department                text NOT NULL DEFAULT '',
    role                      text NOT NULL REFERENCES roles (name),
    squad_code                text REFERENCES squads (code),
    jurisdiction_code         text REFERENCES jurisdictions (code),
    active                    boolean NOT NULL DEFAULT true,
    password_hash             text NOT NULL,
    password_change_required  boolean NOT NULL DEFAULT true,
    totp_secret               text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CHECK (squad_code IS NULL OR jurisdiction_code IS NULL),
    CHECK (role <> 'squad' OR squad_code IS NOT NULL)
);
CREATE UNIQUE INDEX users_login ON users (login);
CREATE UNIQUE INDEX users_officer_number ON users (officer_number)
    WHERE officer_number IS NOT NULL;

CREATE TABLE recovery_codes (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE user_sessions (
    id            text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    idle_seconds  integer NOT NULL CHECK (idle_seconds > 0),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    end_reason    text,
    address       text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_user ON user_sessions (user_id) WHERE ended_at IS NULL;
CREATE INDEX user_sessions_open ON user_sessions (expires_at) WHERE ended_at IS NULL;
CREATE INDEX user_sessions_ended ON user_sessions (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE login_failures (
    id       bigserial PRIMARY KEY,
    login    text NOT NULL,
    address  text NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_login ON login_failures (login, at);
CREATE INDEX login_failures_address ON login_failures (address, at);

CREATE TABLE api_tokens (
    id                 text PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('personal', 'device', 'kiosk')),
    name               text NOT NULL CHECK (name <> ''),
    role               text NOT NULL,
    squad_code         text,
    jurisdiction_code  text,
    device             text,
    user_id            bigint REFERENCES users (id),
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    revoked_at         timestamptz,
    CHECK (kind <> 'personal' OR user_id IS NOT NULL)
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX api_tokens_revoked ON api_tokens (expires_at) WHERE revoked_at IS NOT NULL;
"""

DOWNGRADE = """
DROP TABLE IF EXISTS api_tokens;
DROP TABLE IF EXISTS login_failures;
DROP TABLE IF EXISTS user_sessions;
DROP TABLE IF EXISTS recovery_codes;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS roles;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for name, (title, duty, permissions) in DEFAULT_ROLES.items():
        op.execute(
            f"INSERT INTO roles (name, title, duty, permissions, builtin) VALUES "
            f"('{name}', '{title}', {_literal(duty)}, "
            f"ARRAY(SELECT jsonb_array_elements_text('{json.dumps(permissions)}'::jsonb)), true)"
        )


def _literal(value: str | None) -> str:
    return "NULL" if value is None else f"'{value}'"


def downgrade() -> None:
    op.execute(DOWNGRADE)
