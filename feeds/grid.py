"""Grid workers' reports (JSON from their phones) → a clue Submission in WGS84."""

from __future__ import annotations

from command_center.clues.model import Channel, Submission
from command_center.clues.schemas import GridReportIn
from command_center.errors import InvalidInput
from feeds.open311 import media_url
from gis.crs import CoordinateError, to_wgs84


def submission_from_report(report: GridReportIn, *, device_id: str | None = None) -> Submission:
    try:
        lon, lat = to_wgs84(report.lon, report.lat, report.crs)
    except CoordinateError as exc:
        raise InvalidInput(str(exc)) from None
    return Submission(
        channel=Channel.GRID,
        matter_code=report.matter_code,
        lon=lon,
        lat=lat,
        submitted_crs=report.crs,
        description=report.description.strip(),
        media_url=media_url(report.media_url),
        device_id=device_id,
    )
