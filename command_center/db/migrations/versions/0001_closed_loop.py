"""The closed loop: reference data, clues, the event outbox and the append-only event log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

UPGRADE = """
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE jurisdictions (
    code         text PRIMARY KEY CHECK (code <> ''),
    name         text NOT NULL,
    level        text NOT NULL
                 CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
    level_rank   smallint NOT NULL,
    parent_code  text REFERENCES jurisdictions (code) DEFERRABLE INITIALLY DEFERRED,
    path         text[] NOT NULL,
    geom         geometry(MultiPolygon, 4326) NOT NULL,
    area_m2      double precision NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jurisdictions_geom_gist ON jurisdictions USING gist (geom);
CREATE INDEX jurisdictions_parent ON jurisdictions (parent_code);

CREATE TABLE matters (
    code              text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]+$'),
    name              text NOT NULL,
    domain            text NOT NULL,
    department        text NOT NULL,
    legal_basis       text NOT NULL,
    deadline_hours    integer NOT NULL CHECK (deadline_hours > 0),
    penalty_standard  text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE squads (
    code        text PRIMARY KEY CHECK (code <> ''),
    name        text NOT NULL,
    department  text NOT NULL,
    base        geometry(Point, 4326) NOT NULL,
    on_duty     boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX squads_department ON squads (department) WHERE on_duty;
CREATE INDEX squads_base_gist ON squads USING gist (geography(base));

CREATE TABLE squad_jurisdictions (
    squad_code         text NOT NULL REFERENCES squads (code) ON DELETE CASCADE,
    jurisdiction_code  text NOT NULL REFERENCES jurisdictions (code),
    PRIMARY KEY (squad_code, jurisdiction_code)
);
CREATE INDEX squad_jurisdictions_jurisdiction ON squad_jurisdictions (jurisdiction_code);

CREATE TABLE clues (
    id                 bigint PRIMARY KEY,
    service_request_id text NOT NULL UNIQUE,
    channel            text NOT NULL,
    matter_code        text NOT NULL REFERENCES matters (code),
    description        text NOT NULL DEFAULT '',
    media_url          text,
    location           geometry(Point, 4326) NOT NULL,
    submitted_crs      text NOT NULL,
    jurisdiction_code  text NOT NULL REFERENCES jurisdictions (code),
    jurisdiction_path  text[] NOT NULL,
    department         text NOT NULL,
    state              text NOT NULL,
    squad_code         text REFERENCES squads (code),
    deadline           timestamptz,
    queue_reason       text,
    status_note        text,
    reporter_subject   text,
    reporter_email     text,
    reporter_phone     text,
    reporter_name      text,
    device_id          text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE SEQUENCE clues_id_seq OWNED BY clues.id;
CREATE INDEX clues_state ON clues (state);
CREATE INDEX clues_squad_open ON clues (squad_code) WHERE state NOT IN ('closed', 'cancelled');
CREATE INDEX clues_path_gin ON clues USING gin (jurisdiction_path);
CREATE INDEX clues_location_gist ON clues USING gist (location);
CREATE INDEX clues_created ON clues (created_at);

-- Events are first written here, in the transaction of the change they describe.
CREATE TABLE outbox (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                 timestamptz NOT NULL DEFAULT now(),
    type               text NOT NULL,
    clue_id            bigint,
    data               jsonb NOT NULL,
    jurisdiction_path  text[] NOT NULL DEFAULT '{}',
    squad_codes        text[] NOT NULL DEFAULT '{}'
);

-- The relay moves outbox rows here in commit order, numbering them without gaps.
CREATE TABLE events (
    id                 bigint PRIMARY KEY,
    at                 timestamptz NOT NULL,
    type               text NOT NULL,
    clue_id            bigint,
    data               jsonb NOT NULL,
    jurisdiction_path  text[] NOT NULL,
    squad_codes        text[] NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_path_gin ON events USING gin (jurisdiction_path);
CREATE INDEX events_squads_gin ON events USING gin (squad_codes);
CREATE INDEX events_clue ON events (clue_id, id);

CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();
"""

DOWNGRADE = """
DROP TABLE IF EXISTS events;
DROP FUNCTION IF EXISTS events_are_append_only();
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS clues;
DROP TABLE IF EXISTS squad_jurisdictions;
DROP TABLE IF EXISTS squads;
DROP TABLE IF EXISTS matters;
DROP TABLE IF EXISTS jurisdictions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
