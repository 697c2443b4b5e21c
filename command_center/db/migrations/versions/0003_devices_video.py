"""Devices (body cameras, drones, phones), their telemetry and video recordings.

Telemetry is frequent and not legal evidence: it lives in its own tables, never in the
event log. `device_positions` keeps the last position of every device for the wall screen.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE devices (
    id          text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    kind        text NOT NULL CHECK (kind IN ('phone', 'body_camera', 'drone')),
    squad_code  text REFERENCES squads (code),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_squad ON devices (squad_code);

CREATE TABLE telemetry (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id          text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    at                 timestamptz NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    position           geometry(Point, 4326) NOT NULL,
    submitted_crs      text NOT NULL,
    heading            real CHECK (heading >= 0 AND heading < 360),
    speed              real CHECK (speed >= 0),
    altitude           real,
    battery            real CHECK (battery >= 0 AND battery <= 100),
    accuracy           real CHECK (accuracy >= 0),
    jurisdiction_code  text REFERENCES jurisdictions (code),
    jurisdiction_path  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX telemetry_device_at ON telemetry (device_id, at DESC);
CREATE INDEX telemetry_at_brin ON telemetry USING brin (at);
CREATE INDEX telemetry_position_gist ON telemetry USING gist (position);

-- The newest point of every device (by the device's own clock), kept by ingest.
CREATE TABLE device_positions (
    device_id          text PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,
    at                 timestamptz NOT NULL,
    received_at        timestamptz NOT NULL DEFAULT now(),
    position           geometry(Point, 4326) NOT NULL,
    heading            real,
    speed              real,
    altitude           real,
    battery            real,
    accuracy           real,
    jurisdiction_code  text REFERENCES jurisdictions (code),
    jurisdiction_path  text[] NOT NULL DEFAULT '{}',
    -- who sees it: the point's jurisdiction path and those the device's squad serves
    scope_path         text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX device_positions_scope_gin ON device_positions USING gin (scope_path);

CREATE TABLE recordings (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream       text NOT NULL,
    device_id    text NOT NULL REFERENCES devices (id),
    clue_id      bigint REFERENCES clues (id),
    file_name    text NOT NULL,
    media_type   text NOT NULL,
    sha256       text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint CHECK (size_bytes >= 0),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    started_by   jsonb NOT NULL
);
CREATE INDEX recordings_stream ON recordings (stream, id);
CREATE INDEX recordings_clue ON recordings (clue_id) WHERE clue_id IS NOT NULL;
"""

DOWNGRADE = """
DROP TABLE IF EXISTS recordings;
DROP TABLE IF EXISTS device_positions;
DROP TABLE IF EXISTS telemetry;
DROP TABLE IF EXISTS devices;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
