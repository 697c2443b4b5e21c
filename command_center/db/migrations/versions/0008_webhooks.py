"""Signed webhooks: subscriptions, a delivery cursor each, and the delivery log.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE webhooks (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url            text NOT NULL CHECK (url ~ '^https?://'),
    secret         text NOT NULL,
    event_types    text[] NOT NULL DEFAULT '{}',   -- empty: every type; 'clue.*' prefixes
    last_event_id  bigint NOT NULL DEFAULT 0,      -- delivered up to here, in order
    failures       integer NOT NULL DEFAULT 0,
    retry_at       timestamptz,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id     bigint NOT NULL,
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
"""

DOWNGRADE = "DROP TABLE IF EXISTS webhook_deliveries; DROP TABLE IF EXISTS webhooks;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
