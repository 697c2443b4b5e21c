"""What an outside probe found (issue 15): secret tracker ids, suspect positions, the
moderated public text of clues.

- `devices.tracker_key_sha256`: the SHA-256 of the secret a member's phone sends as its
  OsmAnd `id`. Devices imported before this migration have none: their OsmAnd reports
  are refused (404, as for any unknown id) until an admin issues one
  (`command-center osmand-id MEMBER`) and sets it in the member's app. The old ids
  followed a pattern (phone-ld02-001), so they are not kept as secrets.
- `telemetry.suspect`: why a point is not believed (outside the area, too fast); such
  points never move `device_positions`, which dispatch and the consoles read.
- `clues.public_hidden`, `clues.public_description`: an operator's moderation of what the
  public sees (publicview/); every clue starts unmoderated.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE clues ADD COLUMN public_hidden boolean NOT NULL DEFAULT false;
ALTER TABLE clues ADD COLUMN public_description text;
ALTER TABLE devices ADD COLUMN tracker_key_sha256 text UNIQUE
    CHECK (tracker_key_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE telemetry ADD COLUMN suspect text
    CHECK (suspect IN ('outside_area', 'too_fast'));
"""

DOWNGRADE = """
ALTER TABLE clues DROP COLUMN IF EXISTS public_description;
ALTER TABLE clues DROP COLUMN IF EXISTS public_hidden;
ALTER TABLE telemetry DROP COLUMN IF EXISTS suspect;
ALTER TABLE devices DROP COLUMN IF EXISTS tracker_key_sha256;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
