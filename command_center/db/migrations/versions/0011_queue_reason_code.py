"""Why a clue waits in the operator queue, as a code beside the words.

Revision ID: 0011
Revises: 0010

Rows written before this migration get their code from the words, which the service has
always written in the same few forms.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None

# The words → the code, for rows written before the code existed (tests/integration/
# test_queue_reason_backfill.py runs it over each form the service wrote).
REASON_TO_CODE = """CASE
    WHEN queue_reason LIKE 'returned by squad %' THEN 'returned'
    WHEN queue_reason LIKE 'only an address was given%' THEN 'address_only'
    WHEN queue_reason LIKE '%no squad of % serves jurisdiction %' THEN 'no_squad_serves'
    WHEN queue_reason LIKE '%squads of % are off duty%' THEN 'all_off_duty'
    WHEN queue_reason LIKE '%did not accept in time%'
      OR queue_reason LIKE 'not accepted in time by %' THEN 'not_accepted'
    END"""

UPGRADE = f"""
ALTER TABLE clues ADD COLUMN queue_reason_code text CHECK (queue_reason_code IN (
    'no_squad_serves', 'all_off_duty', 'not_accepted', 'address_only', 'returned'));
UPDATE clues SET queue_reason_code = {REASON_TO_CODE}
WHERE queue_reason IS NOT NULL;
"""

DOWNGRADE = "ALTER TABLE clues DROP COLUMN IF EXISTS queue_reason_code;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
