"""Alerts beyond the websocket: an account's channel identities, every alert attempt,
delivery receipts, the planner's cursor and the reporters' opt-outs.

Revision ID: 0015
Revises: 0014

- `users`: `wecom_userid`, `dingtalk_userid`, `preferred_channel` (`sms`, `dingtalk`,
  `wecom`; unset: the first the account can be reached on) and quiet hours (local
  times; a window may span midnight).
- `alert_attempts`: one row per alert to one person on one channel for one step of a
  clue; the recipient is masked here, `recipient_key` (`user:<id>` or an HMAC of the
  number) counts and de-duplicates without opening anything. The sender looks the
  number up when it sends.
- `alert_receipts`: what a gateway reported later about a sent message (CMPP status
  reports), keyed by the provider's message id; apart from the attempts so that a
  report arriving before its attempt's commit is not lost.
- `alert_cursor`: the planner has read the outbox up to here (starts at the newest
  event: the history is not alerted).
- `alert_opt_outs`: reporters who answered 退订 (TD); never texted again.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None

UPGRADE = """
ALTER TABLE users
    ADD COLUMN wecom_userid       text CHECK (wecom_userid <> ''),
    ADD COLUMN dingtalk_userid    text CHECK (dingtalk_userid <> ''),
    ADD COLUMN preferred_channel  text CHECK (preferred_channel IN ('sms', 'dingtalk', 'wecom')),
    ADD COLUMN quiet_start        time,
    ADD COLUMN quiet_end          time,
    ADD CHECK ((quiet_start IS NULL) = (quiet_end IS NULL));

CREATE TABLE alert_attempts (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clue_id           bigint NOT NULL REFERENCES clues (id) ON DELETE CASCADE,
    event_id          bigint NOT NULL,
    step              text NOT NULL,
    audience          text NOT NULL CHECK (audience IN ('member', 'leader', 'reporter')),
    user_id           bigint REFERENCES users (id) ON DELETE SET NULL,
    squad_code        text,
    channel           text NOT NULL CHECK (channel IN ('sms', 'dingtalk', 'wecom')),
    recipient_masked  text NOT NULL,
    recipient_key     text NOT NULL,
    status            text NOT NULL CHECK (status IN
                        ('waiting', 'pending', 'sent', 'failed', 'cancelled', 'skipped')),
    tries             integer NOT NULL DEFAULT 0,
    error             text,
    provider_id       text,
    due_at            timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    sent_at           timestamptz,
    UNIQUE (clue_id, event_id, step, recipient_key, channel)
);
CREATE INDEX alert_attempts_due ON alert_attempts (due_at) WHERE status IN ('waiting', 'pending');
CREATE INDEX alert_attempts_clue ON alert_attempts (clue_id, id);
CREATE INDEX alert_attempts_recipient ON alert_attempts (recipient_key, created_at);

CREATE TABLE alert_receipts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel      text NOT NULL,
    provider_id  text NOT NULL,
    status       text NOT NULL,
    delivered    boolean NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_receipts_provider ON alert_receipts (channel, provider_id);

CREATE TABLE alert_cursor (
    id             integer PRIMARY KEY CHECK (id = 1),
    last_event_id  bigint NOT NULL
);
INSERT INTO alert_cursor VALUES (1, (SELECT COALESCE(max(id), 0) FROM events));

CREATE TABLE alert_opt_outs (
    recipient_key  text PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now()
);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS alert_opt_outs;
DROP TABLE IF EXISTS alert_cursor;
DROP TABLE IF EXISTS alert_receipts;
DROP TABLE IF EXISTS alert_attempts;
ALTER TABLE users
    DROP COLUMN IF EXISTS quiet_end,
    DROP COLUMN IF EXISTS quiet_start,
    DROP COLUMN IF EXISTS preferred_channel,
    DROP COLUMN IF EXISTS dingtalk_userid,
    DROP COLUMN IF EXISTS wecom_userid;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
