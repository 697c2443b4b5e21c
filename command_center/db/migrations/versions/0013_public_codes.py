"""What an outside probe found (issue 15): random progress codes, secret tracker ids,
suspect positions, the moderated public text of clues. (All of issue 15's schema changes
are in this one migration.)

- `devices.tracker_key_sha256`: the SHA-256 of the secret a member's phone sends as its
  OsmAnd `id`. Devices imported before this migration have none: their OsmAnd reports
  are refused (404, as for any unknown id) until an admin issues one
  (`command-center osmand-id MEMBER`) and sets it in the member's app. The old ids
  followed a pattern (phone-ld02-001), so they are not kept as secrets.
- `telemetry.suspect`: why a point is not believed (outside the area, too fast); such
  points never move `device_positions`, which dispatch and the consoles read.
- `clues.progress_code`: the random code that opens a tip's progress (residents/model.py
  says its rule; `new_progress_code()` generates it, here for every existing clue too).
  `clues.legacy_progress_code`: the old date-and-counter code of a resident's tip (the
  public channels open311 and miniprogram) made before this migration. It stays valid
  so that the QR codes, SMS and slips residents already hold keep working; tips of other
  channels (grid workers, hotline, sensors) lose it, and every new clue has none. What
  stays countable is then only tips that already were in the public Open311 list, and
  they show the masked public view; unknown codes are rate-limited per address.
- `clues.public_hidden`, `clues.public_description`: an operator's moderation of what the
  public sees (publicview/); every clue starts unmoderated.

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
-- 11 characters of the alphabet from pg_strong_random (via gen_random_uuid, skipping its
-- version and variant bytes; bytes >= 248 are skipped so that each character is uniform),
-- then the check character: sum of (position * value) over all 12 divisible by 31.
CREATE FUNCTION new_progress_code() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    alphabet constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
    raw bytea;
    code text := '';
    total int := 0;
    b int;
BEGIN
    WHILE length(code) < 11 LOOP
        raw := uuid_send(gen_random_uuid());
        FOR i IN 0..15 LOOP
            CONTINUE WHEN i IN (6, 8);
            b := get_byte(raw, i);
            IF b < 248 AND length(code) < 11 THEN
                code := code || substr(alphabet, b % 31 + 1, 1);
                total := total + length(code) * (b % 31);
            END IF;
        END LOOP;
    END LOOP;
    RETURN code || substr(alphabet, ((-total * 13) % 31 + 31) % 31 + 1, 1);
END
$$;
ALTER TABLE clues ADD COLUMN progress_code text NOT NULL UNIQUE DEFAULT new_progress_code();
ALTER TABLE clues ADD COLUMN legacy_progress_code text UNIQUE;
UPDATE clues SET legacy_progress_code = service_request_id
WHERE channel IN ('open311', 'miniprogram');
ALTER TABLE clues ADD COLUMN public_hidden boolean NOT NULL DEFAULT false;
ALTER TABLE clues ADD COLUMN public_description text;
ALTER TABLE devices ADD COLUMN tracker_key_sha256 text UNIQUE
    CHECK (tracker_key_sha256 ~ '^[0-9a-f]{64}$');
ALTER TABLE telemetry ADD COLUMN suspect text
    CHECK (suspect IN ('outside_area', 'too_fast'));
"""

DOWNGRADE = """
ALTER TABLE clues DROP COLUMN IF EXISTS legacy_progress_code;
ALTER TABLE clues DROP COLUMN IF EXISTS progress_code;
DROP FUNCTION IF EXISTS new_progress_code();
ALTER TABLE clues DROP COLUMN IF EXISTS public_description;
ALTER TABLE clues DROP COLUMN IF EXISTS public_hidden;
ALTER TABLE telemetry DROP COLUMN IF EXISTS suspect;
ALTER TABLE devices DROP COLUMN IF EXISTS tracker_key_sha256;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
