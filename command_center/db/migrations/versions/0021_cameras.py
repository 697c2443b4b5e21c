"""Fixed cameras pulled over RTSP: a device of kind `fixed_camera` with its RTSP URL
(without credentials) and its password sealed with AES-GCM (command_center.video.credentials).
Recordings gain the key of their copy in the evidence store (`store_key`), which any host
serves them from.

Revision ID: 0021
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision: str | None = "0020"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
    CHECK (kind IN ('phone', 'body_camera', 'drone', 'fixed_camera'));

CREATE TABLE cameras (
    device_id        text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    rtsp_url         text NOT NULL CHECK (rtsp_url ~ '^rtsps?://'),
    username         text,
    sealed_password  bytea,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    registered_by    jsonb NOT NULL
);

ALTER TABLE recordings ADD COLUMN store_key text;
"""

DOWNGRADE = """
ALTER TABLE recordings DROP COLUMN IF EXISTS store_key;
DROP TABLE IF EXISTS cameras;
DELETE FROM devices WHERE kind = 'fixed_camera';
ALTER TABLE devices DROP CONSTRAINT devices_kind_check;
ALTER TABLE devices ADD CONSTRAINT devices_kind_check
    CHECK (kind IN ('phone', 'body_camera', 'drone'));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
