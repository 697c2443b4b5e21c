"""The audit chain: each event holds the hash of the one before it; TRUNCATE is refused.

Existing events are hashed here, in id order, as they are at this moment: the chain
attests the log from this migration on, not what may have happened to it before.
Adding the columns locks `events` until the migration commits; a relay of an older
version that writes afterwards fails the NOT NULL and leaves its rows in the outbox for
a relay of this version.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, text

from command_center.audit import chain

revision = "0006"
down_revision: str | None = "0005"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 5000

READ = text("""
SELECT id, at, type, clue_id, CAST(data AS text) AS data, jurisdiction_path, squad_codes
FROM events WHERE id > :after ORDER BY id LIMIT :limit
""")

WRITE = text("""
UPDATE events SET prev_hash = c.prev_hash, hash = c.hash
FROM unnest(CAST(:ids AS bigint[]), CAST(:prev_hashes AS text[]), CAST(:hashes AS text[]))
     AS c(id, prev_hash, hash)
WHERE events.id = c.id
""")


def upgrade() -> None:
    op.execute("ALTER TABLE events ADD COLUMN prev_hash text, ADD COLUMN hash text")
    op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    backfill(op.get_bind())
    op.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    op.execute("""
ALTER TABLE events
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL,
    ADD CONSTRAINT events_hash_hex CHECK (hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT events_prev_hash_hex CHECK (prev_hash ~ '^[0-9a-f]{64}$');
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
""")


def backfill(connection: Connection) -> None:
    """Hash every event in id order, BACKFILL_BATCH rows at a time (the trigger that
    refuses UPDATE must be disabled by the caller)."""
    last_id, prev_hash = 0, chain.GENESIS
    while True:
        rows = connection.execute(READ, {"after": last_id, "limit": BACKFILL_BATCH}).all()
        if not rows:
            return
        ids, prev_hashes, hashes = [], [], []
        for row in rows:
            stored = chain.ChainRow(
                id=row.id,
                at=row.at,
                type=row.type,
                clue_id=row.clue_id,
                data=row.data,
                jurisdiction_path=tuple(row.jurisdiction_path),
                squad_codes=tuple(row.squad_codes),
            )
            ids.append(row.id)
            prev_hashes.append(prev_hash)
            prev_hash = chain.link_hash(prev_hash, stored)
            hashes.append(prev_hash)
        connection.execute(WRITE, {"ids": ids, "prev_hashes": prev_hashes, "hashes": hashes})
        last_id = rows[-1].id


def downgrade() -> None:
    op.execute("""
DROP TRIGGER IF EXISTS events_no_truncate ON events;
ALTER TABLE events
    DROP CONSTRAINT IF EXISTS events_prev_hash_hex,
    DROP CONSTRAINT IF EXISTS events_hash_hex,
    DROP COLUMN IF EXISTS hash,
    DROP COLUMN IF EXISTS prev_hash;
""")
