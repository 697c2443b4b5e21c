"""Evidence attached to clues, stored content-addressed with its hash.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE evidence (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clue_id      bigint NOT NULL REFERENCES clues (id),
    kind         text NOT NULL
                 CHECK (kind IN ('photo', 'snapshot', 'recording', 'document')),
    media_type   text NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    storage_key  text NOT NULL,
    public_key   text,
    taken_at     timestamptz,
    device_id    text,
    location     geometry(Point, 4326),
    added_by     jsonb NOT NULL,
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX evidence_clue ON evidence (clue_id, id);
"""

DOWNGRADE = "DROP TABLE IF EXISTS evidence;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
