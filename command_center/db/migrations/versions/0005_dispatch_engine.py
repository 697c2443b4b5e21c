"""The dispatch engine: rosters and holidays, ranking inputs, accept time-outs, the
supervision ladder's timers, holds and extensions, disputes, rework, documents.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE squad_shifts (
    squad_code   text NOT NULL REFERENCES squads (code) ON DELETE CASCADE,
    weekday      smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),  -- ISO: 1 = Monday
    starts       time NOT NULL,
    ends         time NOT NULL,  -- ends <= starts: the shift runs past midnight
    on_holidays  boolean NOT NULL DEFAULT true,
    PRIMARY KEY (squad_code, weekday, starts)
);

CREATE TABLE holidays (
    day      date PRIMARY KEY,
    name     text NOT NULL,
    workday  boolean NOT NULL DEFAULT false  -- an adjusted working day (调休上班)
);

ALTER TABLE matters
    ADD COLUMN accept_minutes integer NOT NULL DEFAULT 10 CHECK (accept_minutes > 0),
    ADD COLUMN working_hours boolean NOT NULL DEFAULT false,
    ADD COLUMN verify_needs_photo boolean NOT NULL DEFAULT false,
    ADD COLUMN joint_departments text[] NOT NULL DEFAULT '{}';

ALTER TABLE squads ADD COLUMN domains text[] NOT NULL DEFAULT '{}';

ALTER TABLE clues
    ADD COLUMN missed_by text[] NOT NULL DEFAULT '{}',
    ADD COLUMN dispatched_at timestamptz,
    ADD COLUMN rework_count integer NOT NULL DEFAULT 0,
    ADD COLUMN return_count integer NOT NULL DEFAULT 0,
    ADD COLUMN reopen_count integer NOT NULL DEFAULT 0,
    ADD COLUMN on_hold_since timestamptz;

-- Everything that must happen at a time, kept in the database so that a restart neither
-- loses nor repeats it and several processes fire each exactly once (SKIP LOCKED).
CREATE TABLE timers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clue_id           bigint NOT NULL REFERENCES clues (id),
    kind              text NOT NULL
                      CHECK (kind IN ('accept_timeout', 'reminder', 'supervision', 'escalation')),
    due_at            timestamptz,          -- NULL while the clue is on hold
    paused_remaining  interval,
    fired_at          timestamptz,
    outcome           text,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
CREATE INDEX timers_clue ON timers (clue_id) WHERE fired_at IS NULL;

CREATE TABLE clue_requests (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clue_id       bigint NOT NULL REFERENCES clues (id),
    kind          text NOT NULL CHECK (kind IN ('hold', 'extension')),
    hours         integer CHECK (hours > 0),
    note          text NOT NULL,
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'approved', 'refused')),
    requested_by  jsonb NOT NULL,
    decided_by    jsonb,
    decision_note text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz
);
CREATE UNIQUE INDEX clue_requests_one_pending ON clue_requests (clue_id, kind)
    WHERE state = 'pending';

-- Joint enforcement (联合执法): squads of other departments assisting the lead squad.
CREATE TABLE assignments (
    clue_id     bigint NOT NULL REFERENCES clues (id),
    squad_code  text NOT NULL REFERENCES squads (code),
    department  text NOT NULL,
    state       text NOT NULL DEFAULT 'dispatched'
                CHECK (state IN ('dispatched', 'accepted', 'reported', 'withdrawn')),
    note        text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clue_id, squad_code)
);
CREATE INDEX assignments_squad ON assignments (squad_code) WHERE state <> 'withdrawn';

CREATE TABLE members (
    code        text PRIMARY KEY CHECK (code <> ''),
    name        text NOT NULL,
    squad_code  text NOT NULL REFERENCES squads (code),
    device_id   text UNIQUE REFERENCES devices (id),
    phone       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE documents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clue_id    bigint NOT NULL REFERENCES clues (id),
    kind       text NOT NULL CHECK (kind IN ('reminder', 'supervision_order', 'escalation')),
    number     text NOT NULL UNIQUE,
    addressee  text NOT NULL,
    body       text NOT NULL,
    issued_at  timestamptz NOT NULL
);
CREATE INDEX documents_clue ON documents (clue_id, id);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS documents;
DROP TABLE IF EXISTS assignments;
DROP TABLE IF EXISTS members;
DROP TABLE IF EXISTS clue_requests;
DROP TABLE IF EXISTS timers;
ALTER TABLE clues DROP COLUMN IF EXISTS missed_by, DROP COLUMN IF EXISTS dispatched_at,
    DROP COLUMN IF EXISTS rework_count, DROP COLUMN IF EXISTS return_count,
    DROP COLUMN IF EXISTS reopen_count, DROP COLUMN IF EXISTS on_hold_since;
ALTER TABLE squads DROP COLUMN IF EXISTS domains;
ALTER TABLE matters DROP COLUMN IF EXISTS accept_minutes, DROP COLUMN IF EXISTS working_hours,
    DROP COLUMN IF EXISTS verify_needs_photo, DROP COLUMN IF EXISTS joint_departments;
DROP TABLE IF EXISTS holidays;
DROP TABLE IF EXISTS squad_shifts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
