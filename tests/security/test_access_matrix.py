"""Role × endpoint: every operation of the OpenAPI document (and both websockets), called
by every kind of caller, answers exactly what the table says — each role reaches what it
must and nothing else. Clue A is in 莲都 (331102), assigned to the squad LD-01; the
"other" squad and operator belong to 青田 (331121).

Requests that would change something are chosen so that an allowed caller gets past
every access check and is then stopped by the life cycle (409) or a missing stream or
request (404): the table then shows who got through without the world changing under
the next row. A new endpoint fails `test_the_matrix_covers_every_operation` until it has
a row here.
"""

from __future__ import annotations

import asyncio
import io
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.security.world import LIANDU_NEAR_LD01, PRINCIPALS, World

CALLERS = tuple(PRINCIPALS)
STAFF = tuple(p for p in CALLERS if p not in ("anonymous", "device"))
# Who sees clue A: its squad, and those whose jurisdiction contains 莲都.
SEES_A = ("squad", "grid_worker", "operator", "supervisor", "admin")
WATCHERS = ("squad", "other_squad", "operator", "other_operator", "supervisor", "admin")
# Who reads statistics, reports and exports of their jurisdiction.
READERS = ("operator", "other_operator", "supervisor", "admin")


def only(status: int, *who: str, device: int = 401, others: int = 403) -> dict[str, int]:
    """`who` get `status`; other tokens `others` (403); no token 401; a device token
    `device` (401 where device tokens are not accepted at all)."""
    table = {caller: others for caller in CALLERS}
    table["anonymous"], table["device"] = 401, device
    table.update(dict.fromkeys(who, status))
    return table


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


def tokens_get(status: int) -> dict[str, int]:
    """Every token gets `status` (device tokens included); no token 401."""
    return {**everyone(status), "anonymous": 401}


def people(status: int) -> dict[str, int]:
    """Every token of a person's role gets `status`; no token and device tokens 401 (the
    accounts endpoints take no device token)."""
    return {**everyone(status), "anonymous": 401, "device": 401}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PHOTO = {"photo": ("scene.png", _png(), "image/png")}
SDP = {"content": b"v=0\r\n", "headers": {"Content-Type": "application/sdp"}}
REPORT_IN_LIANDU = {"matter_code": "CG-001", "lon": LIANDU_NEAR_LD01[0], "lat": 28.4795}
UNKNOWN_TRACKER = {"id": "no-such-phone", "lat": "28.4700", "lon": "119.9180"}
TIP = {"service_code": "CG-001", "lon": "119.9290", "lat": "28.4650", "crs": "wgs84"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # the OpenAPI template; {clue_id} is clue A, {code} its public code
    expect: dict[str, int]
    request: dict[str, Any] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


A = "/api/v1/clues/{clue_id}"
MATRIX = (
    # --- clues ------------------------------------------------------------------------
    Row("GET", "/api/v1/clues", only(200, *STAFF)),
    Row("POST", "/api/v1/clues", only(201, "grid_worker", "operator", "admin"),
        {"json": REPORT_IN_LIANDU}),
    Row("GET", A, only(200, *SEES_A)),
    Row("GET", A + "/events", only(200, *SEES_A)),
    Row("GET", A + "/documents", only(200, *SEES_A)),
    Row("GET", A + "/reporter", only(200, "operator", "admin"), {"params": {"reason": "回访"}}),
    # changes nothing the public sees: not hidden, the masked description (issue 15)
    Row("POST", A + "/moderation", only(200, "operator", "supervisor", "admin"),
        {"json": {"hidden": False, "public_description": None, "reason": "审核"}}),
    Row("POST", A + "/actions", only(409, "squad", "admin"), {"json": {"action": "handle"}}),
    Row("POST", A + "/actions", only(409, "operator", "admin"), {"json": {"action": "close"}}),
    Row("POST", A + "/actions", only(409, "grid_worker", "operator", "admin"),
        {"json": {"action": "verify"}}),
    Row("POST", A + "/actions", only(409, "operator", "supervisor", "admin"),
        {"json": {"action": "reopen", "note": "复查"}}),
    # --- supervision ------------------------------------------------------------------
    Row("POST", A + "/requests", only(201, "squad"), {"json": {"kind": "hold", "note": "等待"}}),
    Row("POST", A + "/requests/{request_id}/decision", only(404, "supervisor", "admin"),
        {"json": {"approve": True}}, {"request_id": "999999"}),
    Row("POST", A + "/resume", only(409, "squad", "operator", "supervisor", "admin")),
    Row("POST", A + "/dispute", only(400, "operator", "admin"),
        {"json": {"decision": "uphold", "note": "仍属本队"}}),
    Row("POST", A + "/evidence", only(201, "squad", "grid_worker", "operator", "admin"),
        {"files": PHOTO}),
    Row("GET", "/api/v1/warnings", only(200, "operator", "other_operator", "supervisor", "admin")),
    Row("GET", "/api/v1/disputes/by-department",
        only(200, "operator", "other_operator", "supervisor", "admin")),
    # --- devices, telemetry, positions -----------------------------------------------
    Row("GET", "/api/v1/devices", only(200, *WATCHERS, "grid_worker", device=403)),
    Row("PUT", "/api/v1/devices/{device_id}", only(200, "admin", device=403),
        {"json": {"kind": "drone", "label": "新无人机"}}, {"device_id": "UAV-NEW-1"}),
    Row("POST", "/api/v1/telemetry", only(200, "device", device=200),
        {"json": {"lon": LIANDU_NEAR_LD01[0], "lat": LIANDU_NEAR_LD01[1]}}),
    # OsmAnd trackers send no token (the protocol has none); an unknown device is 404.
    Row("GET", "/api/v1/positions/osmand", everyone(404), {"params": UNKNOWN_TRACKER}),
    Row("POST", "/api/v1/positions/osmand", everyone(404), {"data": UNKNOWN_TRACKER}),
    # --- video: nothing is live, so allowed callers end at 404 ------------------------
    Row("GET", "/api/v1/streams", only(200, *WATCHERS, device=403)),
    Row("GET", "/api/v1/streams/{stream}", tokens_get(404)),
    Row("POST", "/api/v1/streams/{stream}/snapshot", only(404, *WATCHERS, device=403),
        {"json": {"clue_id": 1}}),
    Row("POST", "/api/v1/streams/{stream}/clues",
        only(404, "operator", "other_operator", "admin", device=403),
        {"json": {"matter_code": "CG-001"}}),
    Row("POST", "/api/v1/streams/{stream}/recording",
        only(404, "operator", "other_operator", "supervisor", "admin", device=403)),
    Row("DELETE", "/api/v1/streams/{stream}/recording",
        only(404, "operator", "other_operator", "supervisor", "admin", device=403)),
    Row("GET", "/api/v1/recordings/{recording_id}/file",
        only(404, "operator", "other_operator", "supervisor", "admin", device=403),
        values={"recording_id": "999999"}),
    Row("POST", "/whip/{stream}", only(400, "device", device=400), SDP),
    Row("DELETE", "/whip/{stream}/sessions/{session_id}", only(404, "device", device=404)),
    Row("PATCH", "/whip/{stream}/sessions/{session_id}", everyone(405)),
    Row("OPTIONS", "/whip/{stream}", everyone(204)),
    Row("POST", "/whep/{stream}", tokens_get(404), SDP),
    Row("DELETE", "/whep/{stream}/sessions/{session_id}", tokens_get(404)),
    Row("PATCH", "/whep/{stream}/sessions/{session_id}", everyone(405)),
    Row("OPTIONS", "/whep/{stream}", everyone(204)),
    # --- public: the same for every caller, a token changes nothing -------------------
    Row("GET", "/health", everyone(200)),
    Row("GET", "/health/live", everyone(200)),
    Row("GET", "/health/ready", everyone(200)),
    Row("GET", "/open311/v2/discovery.{fmt}", everyone(200)),
    Row("GET", "/open311/v2/services.{fmt}", everyone(200)),
    Row("GET", "/open311/v2/services/{service_code}.{fmt}", everyone(200)),
    Row("POST", "/open311/v2/requests.{fmt}", everyone(200),
        {"data": {"service_code": "CG-002", "lat": "28.4620", "long": "119.9120"}}),
    Row("GET", "/open311/v2/requests.{fmt}", everyone(200)),
    Row("GET", "/open311/v2/requests/{service_request_id}.{fmt}", everyone(200)),
    Row("GET", "/open311/v2/tokens/{token}.{fmt}", everyone(404), values={"token": "nope"}),
    Row("GET", "/open311/v2/servicerequestupdates.{fmt}", everyone(200)),
    Row("POST", "/api/v1/public/tips", everyone(201),
        {"data": TIP, "files": {"description": (None, "占道经营")}}),
    Row("GET", "/api/v1/public/clues/{code}", everyone(200)),
    Row("POST", "/api/v1/public/clues/{code}/rating", everyone(403),
        {"json": {"secret": "not-the-secret", "rating": 5}}),
    Row("GET", "/api/v1/public/clues/{code}/qr.png", everyone(200)),
    Row("GET", "/api/v1/public/clues/{code}/qr.svg", everyone(200)),
    Row("GET", "/api/v1/public/clues/{code}/photos/{evidence_id}", everyone(404),
        values={"evidence_id": "999999"}),
    Row("GET", "/track/{code}", everyone(200)),
    Row("GET", "/api/v1/public/jurisdictions", everyone(200)),
    # --- consoles' read models ---------------------------------------------------------
    Row("GET", "/api/v1/map/clues", only(200, *STAFF),
        {"params": {"bbox": "119,28,121,29", "zoom": "12"}}),
    Row("GET", "/api/v1/map/squads", only(200, *STAFF)),
    Row("GET", "/api/v1/jurisdictions", only(200, *STAFF)),
    Row("GET", A + "/candidates", only(200, "operator", "supervisor", "admin")),
    Row("GET", A + "/evidence", only(200, *SEES_A)),
    Row("GET", A + "/evidence/{evidence_id}", only(404, *SEES_A), values={"evidence_id": "999999"}),
    # --- analytics, reports, documents, exports ---------------------------------------
    *(Row("GET", "/api/v1/stats/" + name, only(200, *READERS, "squad", "other_squad"))
      for name in ("overview", "indicators", "indicators.csv", "red-black", "hotspots",
                   "hotspots.geojson")),
    Row("GET", "/api/v1/exports/clues.{fmt}", only(200, *READERS, "squad", "other_squad"),
        values={"fmt": "csv"}),
    Row("GET", "/api/v1/reports", only(200, *READERS)),
    Row("POST", "/api/v1/reports", only(400, *READERS),
        {"json": {"kind": "weekly", "period": "2026-W99"}}),
    Row("GET", "/api/v1/reports/{report_id}.{fmt}", only(404, *READERS),
        values={"report_id": "999999", "fmt": "pdf"}),
    Row("GET", A + "/assignment-sheet.pdf", only(200, *SEES_A)),
    Row("GET", A + "/documents/{document_id}.pdf", only(404, *SEES_A),
        values={"document_id": "999999"}),
    # --- accounts (issue 14): sign-in, one's own tokens, the accounts --------------------
    # A wrong password is refused alike for every caller (a token signs nobody in), and
    # after five failures for one login (the default) it is locked whoever asks: 429.
    Row("POST", "/auth/login", dict(zip(CALLERS, [401] * 5 + [429] * 4, strict=True)),
        {"json": {"username": "matrix-nobody", "password": "not-the-password"}}),
    Row("GET", "/auth/me", people(200)),
    # a bearer token has no password: only a signed-in person changes one
    Row("POST", "/auth/password", people(403),
        {"json": {"current_password": "x" * 12, "new_password": "y" * 16}}),
    Row("POST", "/auth/logout", people(204)),
    # a token of no account sees no tokens but the administrator's (everyone's)
    Row("GET", "/api/v1/tokens", only(200, "admin")),
    # a personal access token is made by a signed-in person, never from another token
    Row("POST", "/api/v1/tokens", people(403), {"json": {"name": "矩阵", "expires_in_days": 7}}),
    Row("DELETE", "/api/v1/tokens/{token_id}", people(404), values={"token_id": "nope"}),
    Row("GET", "/api/v1/users", only(200, "admin")),
    # admin gets past every check and is stopped by the unknown squad
    Row("POST", "/api/v1/users", only(400, "admin"),
        {"json": {"login": "matrix-new", "name": "矩阵", "role": "squad", "squad": "NOPE-99"}}),
    Row("PATCH", "/api/v1/users/{login}", only(404, "admin"), {"json": {"active": False}},
        {"login": "matrix-nobody"}),
    # no OpenID provider is configured in this world
    Row("GET", "/auth/sso/login", everyone(404)),
    Row("GET", "/auth/sso/callback", everyone(404), {"params": {"state": "x", "code": "y"}}),
    # --- the demo badge and the wall's recent events (issue 22) -------------------------
    Row("GET", "/api/v1/demo", everyone(200)),
    Row("GET", "/api/v1/events/latest", only(200, *STAFF)),
    Row("GET", "/open311/v2/media/{service_request_id}/{evidence_id}", everyone(404),
        values={"evidence_id": "999999"}),
    # --- OGC API: every staff token; the features are scoped (tests/ogc, test_scopes) --
    *(Row("GET", "/ogc" + path, only(200, *STAFF), values={"collection_id": "open_clues"})
      for path in ("", "/conformance", "/collections", "/collections/{collection_id}",
                   "/collections/{collection_id}/items", "/collections/{collection_id}/tiles",
                   "/collections/{collection_id}/tiles/{tms}",
                   "/collections/{collection_id}/tiles/{tms}/{z}/{y}/{x}",
                   "/tileMatrixSets", "/tileMatrixSets/{tms}")),
    Row("GET", "/ogc/collections/{collection_id}/items/{feature_id}",
        {**only(200, *SEES_A), "other_squad": 404, "other_operator": 404},
        values={"collection_id": "open_clues", "feature_id": "{clue_id}"}),
    # --- fixed cameras pulled over RTSP: administrators only --------------------------
    Row("PUT", "/api/v1/cameras/{device}", only(200, "admin", device=403),
        {"json": {"rtsp_url": "rtsp://127.0.0.1:9/stream1", "username": "u", "password": "p"}},
        {"device": "CAM-NEW-1"}),
    Row("GET", "/api/v1/cameras", only(200, "admin", device=403)),
    Row("GET", "/api/v1/cameras/{device}", only(404, "admin", device=403),
        values={"device": "CAM-NONE"}),
    Row("DELETE", "/api/v1/cameras/{device}", only(404, "admin", device=403),
        values={"device": "CAM-NONE"}),
    # --- RTMP: a device's push key; nginx's callbacks take the key in the form alone ---
    Row("GET", "/api/v1/rtmp/push", only(200, "device", device=200)),
    *(Row("POST", path, everyone(401),
          {"data": {"call": "publish", "app": "live", "name": "CAM-LD-01", "clientid": "1"}})
      for path in ("/rtmp/on_publish", "/rtmp/on_publish_done")),
    # --- alerts (issue 18): the record is read as the clue is -------------------------
    Row("GET", A + "/notifications", only(200, *SEES_A)),
)  # fmt: skip


def _path(row: Row, world: World) -> str:
    values = {
        "clue_id": str(world.clue_a),
        "code": world.progress_a,
        "service_request_id": world.code_a,
        "service_code": "CG-001",
        "fmt": "json",
        "stream": "CAM-LD-01",
        "session_id": "abcdefgh",
        "tms": "WebMercatorQuad",
        "z": "10",
        "y": "437",
        "x": "852",
        **row.values,
    }
    values = {name: values.get(value.strip("{}"), value) for name, value in values.items()}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], row.path)


def test_the_matrix_covers_every_operation(world: World) -> None:
    document = httpx.get(f"{world.url}/openapi.json", timeout=10).json()
    operations = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete", "options")
    }
    covered = {(row.method, row.path) for row in MATRIX}
    assert operations - covered == set(), "operations without a row in MATRIX"
    assert covered - operations == set(), "rows for operations that do not exist"


@pytest.mark.parametrize("row", MATRIX, ids=lambda row: f"{row.method} {row.path}")
async def test_each_role_reaches_what_it_must_and_nothing_else(row: Row, world: World) -> None:
    got = {}
    async with httpx.AsyncClient(base_url=world.url, timeout=10) as client:
        for caller in CALLERS:
            request = dict(row.request)
            response = await client.request(
                row.method,
                _path(row, world),
                headers={**request.pop("headers", {}), **world.headers(caller)},
                **request,
            )
            got[caller] = response.status_code
            assert response.status_code < 500, response.text
    assert got == row.expect


@pytest.mark.parametrize(
    ("path", "opens"),
    [
        ("/ws", {caller: caller in STAFF for caller in CALLERS}),
        ("/ws/telemetry", {caller: caller != "anonymous" for caller in CALLERS}),
    ],
)
async def test_each_role_opens_the_websockets_it_must(
    path: str, opens: dict[str, bool], world: World
) -> None:
    got = {}
    for caller in CALLERS:
        token = world.token(caller)
        url = world.url.replace("http://", "ws://") + path + (f"?token={token}" if token else "")
        async with connect(url, open_timeout=5) as ws:
            got[caller] = await _stays_open(ws)
    assert got == opens


async def _stays_open(ws: Any) -> bool:
    """False when the server closes the socket as unauthenticated (4401) at once."""
    try:
        async with asyncio.timeout(0.5):
            await ws.recv()  # the telemetry snapshot, or nothing
        return True
    except TimeoutError:
        return True
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == 4401, closed
        return False
