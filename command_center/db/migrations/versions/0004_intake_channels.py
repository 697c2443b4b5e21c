"""Intake channels: Open311 attributes and API keys, duplicates, tracking, ratings, imports.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE matters
    ADD COLUMN duplicate_radius_m integer NOT NULL DEFAULT 50
        CHECK (duplicate_radius_m >= 0),
    ADD COLUMN duplicate_window_hours integer NOT NULL DEFAULT 24
        CHECK (duplicate_window_hours >= 0),
    ADD COLUMN keywords text NOT NULL DEFAULT '';

CREATE TABLE matter_attributes (
    matter_code           text NOT NULL REFERENCES matters (code) ON DELETE CASCADE,
    code                  text NOT NULL CHECK (code ~ '^[A-Za-z0-9._-]+$'),
    variable              boolean NOT NULL DEFAULT true,
    datatype              text NOT NULL CHECK (datatype IN
                          ('string', 'number', 'datetime', 'text', 'singlevaluelist',
                           'multivaluelist')),
    required              boolean NOT NULL DEFAULT false,
    datatype_description  text NOT NULL DEFAULT '',
    position              integer NOT NULL DEFAULT 1,
    description           text NOT NULL,
    choices               jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (matter_code, code)
);

CREATE TABLE api_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL,
    key_hash        text NOT NULL UNIQUE,
    rate_per_second double precision NOT NULL CHECK (rate_per_second >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);

ALTER TABLE clues
    ADD COLUMN duplicate_of bigint REFERENCES clues (id),
    ADD COLUMN report_count integer NOT NULL DEFAULT 1,
    ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN address text,
    ADD COLUMN location_approximate boolean NOT NULL DEFAULT false,
    ADD COLUMN source text,
    ADD COLUMN external_id text,
    ADD COLUMN api_key_id bigint REFERENCES api_keys (id),
    ADD COLUMN intake_token text UNIQUE,
    ADD COLUMN tracking_secret_hash text,
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN rating smallint CHECK (rating BETWEEN 1 AND 5),
    ADD COLUMN rating_comment text,
    ADD COLUMN rated_at timestamptz;
CREATE UNIQUE INDEX clues_source_external ON clues (source, external_id)
    WHERE external_id IS NOT NULL;
CREATE INDEX clues_duplicate_of ON clues (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX clues_open_by_matter ON clues (matter_code, created_at)
    WHERE state NOT IN ('closed', 'cancelled', 'duplicate');
CREATE INDEX clues_location_geography ON clues USING gist (geography(location));
CREATE INDEX events_type_id ON events (type, id);
CREATE INDEX events_at ON events (at);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS events_type_id;
DROP INDEX IF EXISTS events_at;
DROP INDEX IF EXISTS clues_location_geography;
ALTER TABLE clues
    DROP COLUMN IF EXISTS duplicate_of, DROP COLUMN IF EXISTS report_count,
    DROP COLUMN IF EXISTS attributes, DROP COLUMN IF EXISTS address,
    DROP COLUMN IF EXISTS location_approximate, DROP COLUMN IF EXISTS source,
    DROP COLUMN IF EXISTS external_id, DROP COLUMN IF EXISTS api_key_id,
    DROP COLUMN IF EXISTS intake_token, DROP COLUMN IF EXISTS tracking_secret_hash,
    DROP COLUMN IF EXISTS closed_at, DROP COLUMN IF EXISTS rating,
    DROP COLUMN IF EXISTS rating_comment, DROP COLUMN IF EXISTS rated_at;
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS matter_attributes;
ALTER TABLE matters DROP COLUMN IF EXISTS duplicate_radius_m,
    DROP COLUMN IF EXISTS duplicate_window_hours, DROP COLUMN IF EXISTS keywords;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
