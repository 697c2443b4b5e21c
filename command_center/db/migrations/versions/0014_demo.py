"""The desk's search, and the marks of a demo: a database marked as a demo, clues sent
by its simulation.

Revision ID: 0014
Revises: 0011

- pg_trgm (a trusted extension: the database owner may create it) and a GIN trigram
  index over a clue's words (description and address), so that `ILIKE '%…%'` of three
  characters or more is an index search; an expression index on the last four digits of
  the reporter's phone.
- `demo_marks`: one row when `command-center demo mark` (run by scripts/demo) declared
  this database a demo; `command-center simulate` and the simulation header are refused
  without it.
- `clues.simulated`: the clue was sent by the simulation (its request carried the header).
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX clues_words_trgm ON clues
    USING gin ((description || ' ' || coalesce(address, '')) gin_trgm_ops);
CREATE INDEX clues_phone_ending ON clues (right(reporter_phone, 4))
    WHERE reporter_phone IS NOT NULL;
CREATE TABLE demo_marks (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    city       text NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE clues ADD COLUMN simulated boolean NOT NULL DEFAULT false;
"""

DOWNGRADE = """
ALTER TABLE clues DROP COLUMN IF EXISTS simulated;
DROP TABLE IF EXISTS demo_marks;
DROP INDEX IF EXISTS clues_phone_ending;
DROP INDEX IF EXISTS clues_words_trgm;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
