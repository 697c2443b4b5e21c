"""The moderation request."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from command_center.clues.model import MAX_DESCRIPTION


class ModerationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hidden: bool = Field(
        default=False, description="Hide the clue from the Open311 list and detail"
    )
    public_description: str | None = Field(
        default=None,
        max_length=MAX_DESCRIPTION,
        description="The text the public sees instead of the description; null: the "
        "description, personal data masked",
    )
    reason: str = Field(min_length=2, max_length=500, description="Why; kept in the record")
