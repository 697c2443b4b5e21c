"""Live video over HTTP: WHIP ingest (RFC 9725), WHEP viewing, and `/api/v1/streams`.

WHIP and WHEP take an SDP offer (`Content-Type: application/sdp`) and answer `201 Created`
with the SDP answer and a `Location` of the session; `DELETE` on it ends the session.
Answers carry every candidate (no trickle), so `PATCH` is `405`. Errors are JSON:
401/403 for tokens, 415 for another content type, 400 for a body that is not a usable
offer, 404 for an unknown stream or session, 503 at a stream or viewer limit.

`/rtmp/on_publish` and `/rtmp/on_publish_done` are nginx's RTMP callbacks (forms, see
command_center.video.rtmp): a 2xx accepts a push, anything else refuses it.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from contextlib import ExitStack
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from command_center.auth.dependencies import check_token
from command_center.auth.model import DEVICE_ID_PATTERN, Principal
from command_center.clues.schemas import ClueOut
from command_center.errors import DomainError, InvalidInput, Unauthenticated
from command_center.telemetry.dependencies import AnyPrincipal
from command_center.telemetry.schemas import PositionOut
from command_center.video import cameras, recordings
from command_center.video import service as video_service
from command_center.video.rtmp import (
    RtmpPush,
    application,
    is_push_key,
    key_principal,
    push_key,
    read_push,
)
from command_center.video.schemas import (
    CameraIn,
    CameraOut,
    EvidenceOut,
    RecordingIn,
    RecordingOut,
    RtmpPushOut,
    SnapshotIn,
    StreamOut,
    VideoClueIn,
    VideoClueOut,
)
from feeds.video.model import StreamStatus
from feeds.video.sdp import MAX_OFFER_BYTES, Purpose, parse_offer
from feeds.video.streams import VideoServer

log = logging.getLogger(__name__)
router = APIRouter(tags=["video"])

SDP = "application/sdp"
MATROSKA = "video/x-matroska"
PAGES = FilePath(__file__).parent / "pages"
JAVASCRIPT = "text/javascript; charset=utf-8"
StreamName = Annotated[str, Path(pattern=DEVICE_ID_PATTERN, description="Stream = device id")]
SessionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
SDP_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"content": {SDP: {}}, "description": "The SDP answer; `Location` names the session"},
    415: {"description": "The body must be application/sdp"},
}


def _video(request: Request) -> VideoServer:
    video: VideoServer = request.app.state.video
    return video


# --- WHIP ----------------------------------------------------------------------------------


@router.post("/whip/{stream}", status_code=201, response_class=Response, responses=SDP_RESPONSES)
async def whip_publish(stream: StreamName, request: Request, by: AnyPrincipal) -> Response:
    """Publish a device's camera (its own stream, `/whip/<device id>`). A second session
    for the same stream replaces the first: the device reconnected."""
    video_service.may_publish(by=by, stream=stream)
    refused = _not_sdp(request)
    if refused is not None:
        return refused
    offer = parse_offer(await _body(request), Purpose.PUBLISH)
    session = await video_service.publish(
        database=request.app.state.database,
        video=_video(request),
        by=by,
        stream=stream,
        offer=offer,
    )
    return _created(request, f"/whip/{stream}/sessions/{session.id}", session.answer)


@router.delete("/whip/{stream}/sessions/{session_id}")
async def whip_end(
    stream: StreamName, session_id: SessionId, request: Request, by: AnyPrincipal
) -> Response:
    """End publishing; the stream ends for its viewers (`stream.ended`)."""
    video_service.end_publishing(video=_video(request), by=by, stream=stream, session_id=session_id)
    return Response(status_code=200)


@router.patch("/whip/{stream}/sessions/{session_id}", status_code=405)
async def whip_patch(stream: StreamName, session_id: SessionId) -> Response:
    """Trickle ICE and ICE restarts are not supported (RFC 9725 section 4.3): 405."""
    return _no_trickle()


@router.options("/whip/{stream}", status_code=204)
async def whip_options(stream: StreamName) -> Response:
    return Response(status_code=204, headers={"Accept-Post": SDP, "Allow": "OPTIONS, POST"})


# --- WHEP ----------------------------------------------------------------------------------


@router.post("/whep/{stream}", status_code=201, response_class=Response, responses=SDP_RESPONSES)
async def whep_watch(stream: StreamName, request: Request, by: AnyPrincipal) -> Response:
    """Watch a live stream in your scope: the camera's own frames, relayed, not transcoded.
    A registered fixed camera is pulled now if nobody watches it yet (503 with the reason
    when it cannot be reached)."""
    await _need_camera(request, by, stream)
    video_service.visible(video=_video(request), by=by, stream=stream)
    refused = _not_sdp(request)
    if refused is not None:
        return refused
    offer = parse_offer(await _body(request), Purpose.WATCH)
    session = await video_service.watch(video=_video(request), by=by, stream=stream, offer=offer)
    return _created(request, f"/whep/{stream}/sessions/{session.id}", session.answer)


@router.delete("/whep/{stream}/sessions/{session_id}")
async def whep_end(
    stream: StreamName, session_id: SessionId, request: Request, by: AnyPrincipal
) -> Response:
    video_service.end_viewing(video=_video(request), by=by, stream=stream, session_id=session_id)
    return Response(status_code=200)


@router.patch("/whep/{stream}/sessions/{session_id}", status_code=405)
async def whep_patch(stream: StreamName, session_id: SessionId) -> Response:
    """Trickle ICE and ICE restarts are not supported: 405."""
    return _no_trickle()


@router.options("/whep/{stream}", status_code=204)
async def whep_options(stream: StreamName) -> Response:
    return Response(status_code=204, headers={"Accept-Post": SDP, "Allow": "OPTIONS, POST"})


# --- the stream API --------------------------------------------------------------------------


@router.get("/api/v1/streams", response_model=list[StreamOut])
async def list_streams(request: Request, by: AnyPrincipal) -> list[StreamOut]:
    """Live streams in the caller's scope, with each device's last position and where to
    watch it (`whep`)."""
    statuses = video_service.visible_streams(video=_video(request), by=by)
    return await _described(request, statuses)


@router.get("/api/v1/streams/{stream}", response_model=StreamOut)
async def get_stream(stream: StreamName, request: Request, by: AnyPrincipal) -> StreamOut:
    status = video_service.visible(video=_video(request), by=by, stream=stream)
    [described] = await _described(request, [status])
    return described


@router.post("/api/v1/streams/{stream}/snapshot", status_code=201, response_model=EvidenceOut)
async def take_snapshot(
    stream: StreamName, body: SnapshotIn, request: Request, by: AnyPrincipal
) -> EvidenceOut:
    """Take a frame now and attach it to a clue as a JPEG (`clue.evidence_added`, with its
    SHA-256, the device, the time and the device's position)."""
    state = request.app.state
    await _need_camera(request, by, stream)
    evidence = await video_service.snapshot_to_clue(
        database=state.database,
        store=state.media,
        video=_video(request),
        by=by,
        stream=stream,
        clue_id=body.clue_id,
        note=body.note,
    )
    return EvidenceOut.of(evidence)


@router.post("/api/v1/streams/{stream}/clues", status_code=201, response_model=VideoClueOut)
async def report_from_video(
    stream: StreamName, body: VideoClueIn, request: Request, by: AnyPrincipal
) -> VideoClueOut:
    """Report a clue seen on a live view (operators): registered and dispatched like any
    clue (channel `video`), with the current frame as its first evidence."""
    state = request.app.state
    made = await video_service.clue_from_video(
        database=state.database,
        store=state.media,
        video=_video(request),
        by=by,
        stream=stream,
        report=body,
        zone=state.settings.zone,
        code_prefix=state.settings.public_code_prefix,
    )
    return VideoClueOut(clue=ClueOut.of(made.clue), evidence=EvidenceOut.of(made.evidence))


@router.post("/api/v1/streams/{stream}/recording", status_code=201, response_model=RecordingOut)
async def start_recording(
    stream: StreamName, request: Request, by: AnyPrincipal, body: RecordingIn | None = None
) -> RecordingOut:
    """Start recording the stream to RECORDINGS_DIR (for a clue, if `clue_id` is given)."""
    state = request.app.state
    await _need_camera(request, by, stream)
    started = await recordings.start(
        database=state.database,
        video=_video(request),
        by=by,
        stream=stream,
        clue_id=body.clue_id if body else None,
        directory=state.settings.recordings_dir,
        store=state.media,
    )
    recorder = started.recorder
    return RecordingOut(
        id=started.recording_id,
        stream=stream,
        file=recorder.path.name,
        started_at=recorder.started_at,
    )


@router.delete("/api/v1/streams/{stream}/recording", response_model=RecordingOut)
async def stop_recording(stream: StreamName, request: Request, by: AnyPrincipal) -> RecordingOut:
    """Stop recording; the answer carries the file's SHA-256, also in the event log."""
    recording_id, result = await recordings.stop(
        database=request.app.state.database, video=_video(request), by=by, stream=stream
    )
    return RecordingOut.finished(stream, result, recording_id)


@router.get(
    "/api/v1/recordings/{recording_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {MATROSKA: {}}, "description": "The recording, checked"}},
)
async def recording_file(
    recording_id: Annotated[int, Path(ge=1)], request: Request, by: AnyPrincipal
) -> Response:
    """A finished recording, from the evidence store whichever host recorded it, checked
    against its SHA-256 (also in `Repr-Digest`) before it is served; 500 `damaged` if it
    fails the check."""
    state = request.app.state
    row, opened = await recordings.file(
        database=state.database,
        store=state.media,
        by=by,
        recording_id=recording_id,
        directory=state.settings.recordings_dir,
    )
    stack = ExitStack()
    path = await asyncio.to_thread(stack.enter_context, opened)
    digest = base64.b64encode(bytes.fromhex(row.sha256 or "")).decode()
    return FileResponse(
        path,
        media_type=row.media_type,
        filename=row.file_name,
        headers={"Repr-Digest": f"sha-256=:{digest}:"},
        background=BackgroundTask(stack.close),
    )


# --- fixed cameras pulled over RTSP -------------------------------------------------------


@router.put("/api/v1/cameras/{device}", response_model=CameraOut)
async def register_camera(
    device: StreamName, body: CameraIn, request: Request, by: AnyPrincipal
) -> CameraOut:
    """Register (or replace) a fixed camera (admins): its RTSP URL without credentials,
    the user name and password it asks for (stored encrypted, never shown back). It is
    watched at `/whep/<device>` and pulled only while someone needs it."""
    state = request.app.state
    camera = await cameras.register(
        database=state.database,
        sealer=state.camera_sealer,
        puller=state.camera_puller,
        by=by,
        device_id=device,
        rtsp_url=body.rtsp_url,
        username=body.username,
        password=body.password,
        squad_code=body.squad_code,
        label=body.label,
    )
    return CameraOut.of(camera)


@router.get("/api/v1/cameras", response_model=list[CameraOut])
async def list_cameras(request: Request, by: AnyPrincipal) -> list[CameraOut]:
    """Every fixed camera with the state of its pull (admins)."""
    state = request.app.state
    found = await cameras.cameras(database=state.database, puller=state.camera_puller, by=by)
    return [CameraOut.of(c) for c in found]


@router.get("/api/v1/cameras/{device}", response_model=CameraOut)
async def get_camera(device: StreamName, request: Request, by: AnyPrincipal) -> CameraOut:
    """One camera: `pull.state` is idle, connecting, live or backing_off, with the last
    error and the seconds to the next attempt."""
    state = request.app.state
    camera = await cameras.camera(
        database=state.database, puller=state.camera_puller, by=by, device_id=device
    )
    return CameraOut.of(camera)


@router.delete("/api/v1/cameras/{device}", status_code=204, response_class=Response)
async def remove_camera(device: StreamName, request: Request, by: AnyPrincipal) -> Response:
    """Forget a camera's URL and credentials; its stream ends. The device stays."""
    state = request.app.state
    await cameras.remove(
        database=state.database, puller=state.camera_puller, by=by, device_id=device
    )
    return Response(status_code=204)


async def _need_camera(request: Request, by: Principal, stream: str) -> None:
    state = request.app.state
    await cameras.need(
        database=state.database,
        video=_video(request),
        sealer=state.camera_sealer,
        puller=state.camera_puller,
        by=by,
        stream=stream,
        wait_seconds=state.settings.video_connect_timeout_seconds,
    )


# --- RTMP: a device's push key, nginx's callbacks -------------------------------------------


@router.get("/api/v1/rtmp/push", response_model=RtmpPushOut)
async def rtmp_push(request: Request, by: AnyPrincipal) -> RtmpPushOut:
    """Where and with what a device pushes RTMP (device tokens only): its push key stands
    for its token, which is too long for nginx's RTMP module, and ends with it."""
    state = request.app.state
    key = push_key(by, signing_key=state.signing_key)
    host = urlsplit(state.settings.public_base_url).hostname or "127.0.0.1"
    read = urlsplit(state.settings.rtmp_read_url)
    server = f"rtmp://{host}:{read.port or 1935}/{application(state.settings.rtmp_read_url)}"
    return RtmpPushOut.of(server=server, stream=by.device or "", key=key, by=by)


@router.post(
    "/rtmp/on_publish",
    status_code=204,
    response_class=Response,
    responses={302: {"description": "Accepted, renamed to the device id (`Location`)"}},
)
async def rtmp_on_publish(request: Request) -> Response:
    """nginx asks whether to accept a push: 204 accepts it and the stream goes live once
    its H.264 is read back; a push whose stream key is the token is accepted under its
    device id (302, `Location`). 401/403/400/404/503 refuse it, and are logged (without
    the token)."""
    state = request.app.state
    push: RtmpPush | None = None
    try:
        push = read_push(await _form(request), app=application(state.settings.rtmp_read_url))
        by = _push_principal(request, push)
        stream = push.name or by.device or ""
        await video_service.publish_rtmp(
            database=state.database,
            video=_video(request),
            by=by,
            stream=stream,
            read_url=state.settings.rtmp_read_url,
            client_id=push.client_id,
        )
    except DomainError as exc:
        log.warning("RTMP push %s refused: %s", push.describe() if push else "", exc)
        raise
    log.info("RTMP push %s accepted as stream %s", push.describe(), stream)
    if push.name is None:
        return Response(status_code=302, headers={"Location": stream})
    return Response(status_code=204)


@router.post("/rtmp/on_publish_done", status_code=204, response_class=Response)
async def rtmp_on_publish_done(request: Request) -> Response:
    """nginx says a push ended: its stream ends (`stream.ended`, reason `publisher_left`)
    unless a newer push of the device publishes it. Same token check as `on_publish`."""
    state = request.app.state
    push = read_push(await _form(request), app=application(state.settings.rtmp_read_url))
    by = _push_principal(request, push)
    stream = push.name or by.device or ""
    ended = video_service.end_rtmp(
        video=_video(request), by=by, stream=stream, client_id=push.client_id
    )
    log.info("RTMP push %s ended%s", push.describe(), "" if ended else " (stream already gone)")
    return Response(status_code=204)


# --- pages ---------------------------------------------------------------------------------


@router.get("/video/publish", response_class=HTMLResponse, include_in_schema=False)
async def publish_page() -> HTMLResponse:
    """A WHIP publisher for a browser: `/video/publish#stream=<id>&token=<device token>`."""
    return HTMLResponse((PAGES / "publish.html").read_text("utf-8"))


@router.get("/video/watch", response_class=HTMLResponse, include_in_schema=False)
async def watch_page() -> HTMLResponse:
    """A WHEP viewer: `/video/watch#stream=<id>&token=<operator token>`."""
    return HTMLResponse((PAGES / "watch.html").read_text("utf-8"))


@router.get("/video/{page}.js", include_in_schema=False)
async def page_script(page: Literal["publish", "watch"]) -> Response:
    """The pages' scripts, as files: the CSP allows no inline script (issue 15)."""
    return Response((PAGES / f"{page}.js").read_text("utf-8"), media_type=JAVASCRIPT)


# --- helpers -------------------------------------------------------------------------------


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _push_principal(request: Request, push: RtmpPush) -> Principal:
    """The device of a push key, or of a device token short enough to pass nginx."""
    state = request.app.state
    revocations = getattr(state, "revocations", None)
    if not is_push_key(push.token):
        return check_token(
            push.token,
            signing_key=state.signing_key,
            revocations=revocations,
            settings=state.settings,
            allow_device=True,
        )
    by = key_principal(push.token, signing_key=state.signing_key, now=time.time())
    if revocations is not None and (reason := revocations.refused(by)):
        raise Unauthenticated(reason)
    return by


def _not_sdp(request: Request) -> Response | None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == SDP:
        return None
    return JSONResponse(
        {"error": "unsupported_media_type", "detail": f"send the SDP offer as {SDP}"},
        status_code=415,
        headers={"Accept-Post": SDP},
    )


async def _body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_OFFER_BYTES:
            raise InvalidInput(f"the SDP offer is larger than {MAX_OFFER_BYTES // 1024} KiB")
    return bytes(body)


def _created(request: Request, location: str, answer: str) -> Response:
    response = Response(
        content=answer, status_code=201, media_type=SDP, headers={"Location": location}
    )
    for link in request.app.state.ice_servers.link_headers():
        response.headers.append("Link", link)
    return response


def _no_trickle() -> Response:
    return JSONResponse(
        {
            "error": "method_not_allowed",
            "detail": "trickle ICE and ICE restarts are not supported; the answer carries "
            "every candidate",
        },
        status_code=405,
        headers={"Allow": "DELETE"},
    )


async def _described(request: Request, statuses: list[StreamStatus]) -> list[StreamOut]:
    found = await video_service.positions(database=request.app.state.database, statuses=statuses)
    return [
        StreamOut.of(s, PositionOut.of(p) if (p := found.get(s.name)) else None) for s in statuses
    ]
