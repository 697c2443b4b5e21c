"""Analytics: stored reports (weekly report, monthly bulletin) and indexes that let the
indicators find the clues a period can count without reading every clue.

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE reports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('weekly', 'monthly')),
    label         text NOT NULL,                 -- 2026-W47, 2026-11
    jurisdiction  text REFERENCES jurisdictions (code),  -- NULL: the whole system
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    html          text NOT NULL,
    pdf           bytea NOT NULL,
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    generated_at  timestamptz NOT NULL DEFAULT now(),
    generated_by  jsonb NOT NULL
);
CREATE INDEX reports_kind_label ON reports (kind, label, id DESC);

CREATE INDEX clues_closed_at ON clues (closed_at) WHERE closed_at IS NOT NULL;
CREATE INDEX clues_reopened ON clues (id) WHERE reopen_count > 0;
CREATE INDEX clues_gone_updated ON clues (updated_at) WHERE state IN ('cancelled', 'duplicate');
"""

DOWNGRADE = """
DROP INDEX IF EXISTS clues_gone_updated;
DROP INDEX IF EXISTS clues_reopened;
DROP INDEX IF EXISTS clues_closed_at;
DROP TABLE IF EXISTS reports;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
