"""Response shapes of the alert record."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from command_center.alerts.repository import Listed


class AttemptOut(BaseModel):
    id: int
    step: str = Field(
        description="dispatch, escalation (second channel), registered, handled or closed"
    )
    audience: str = Field(description="member (of the squad) or reporter")
    channel: str = Field(description="sms, dingtalk or wecom")
    recipient: str = Field(description="Masked phone (138****8000) or the work-app userid.")
    status: str = Field(
        description="waiting (the second channel, if not accepted by then), pending, sent, "
        "failed, cancelled (no longer needed) or skipped (daily cap)"
    )
    tries: int
    error: str | None
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
    receipt: str | None = Field(description="The gateway's status report (DELIVRD …), if any.")
    delivered: bool | None
    receipt_at: datetime | None

    @classmethod
    def of(cls, row: Listed) -> AttemptOut:
        return cls(
            id=row.id,
            step=row.step,
            audience=row.audience,
            channel=row.channel,
            recipient=row.recipient,
            status=row.status,
            tries=row.tries,
            error=row.error,
            due_at=row.due_at,
            created_at=row.created_at,
            sent_at=row.sent_at,
            receipt=row.receipt,
            delivered=row.delivered,
            receipt_at=row.receipt_at,
        )
