"""`GET /api/v1/demo`: whether this service runs a demo (anyone may ask: the pages show a
"演示" badge, the simulation refuses to start against anything else)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from command_center.demo.model import BADGE, SIMULATION_HEADER

router = APIRouter(prefix="/api/v1", tags=["demo"])


class DemoOut(BaseModel):
    demo: bool = Field(description="The database is marked as a demo (command-center demo-mark)")
    city: str | None
    badge: str | None = Field(description=f"What the pages show: {BADGE!r}, or null")
    simulation_header: str = Field(description="The header the simulation sends")


@router.get("/demo", response_model=DemoOut)
async def demo(request: Request) -> DemoOut:
    mark = await request.app.state.demo_status.current()
    return DemoOut(
        demo=mark is not None,
        city=mark.city if mark else None,
        badge=BADGE if mark else None,
        simulation_header=SIMULATION_HEADER,
    )
