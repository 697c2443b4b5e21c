"""SMS through a CMPP 2.0 gateway (an ISMG), over one long-lived TCP connection.

The connection opens at the first send (CMPP_CONNECT, checked against the gateway's
AuthenticatorISMG) and stays open: status reports (CMPP_DELIVER with
Registered_Delivery 1) and replies from phones arrive on it, each answered with
CMPP_DELIVER_RESP and handed to `on_report` / `on_reply`. An idle link is checked with
CMPP_ACTIVE_TEST; a link that does not answer within `timeout` is closed, and the next
send opens a new one. The gateway's own ACTIVE_TEST is answered.

`send` waits for every part's CMPP_SUBMIT_RESP (at most `timeout` each) and returns the
first part's Msg_Id, which the status report names. Failures raise SendFailed:
retryable for a broken or slow link and flow control (result 8), not for a refused
message. There is no queue: callers send one text at a time per channel (a lock keeps
the submits of one text together).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from command_center.alerts import cmpp
from command_center.alerts.cmpp import Command, Frame
from command_center.alerts.model import ChannelName, SendFailed

log = logging.getLogger(__name__)

ReportHandler = Callable[[cmpp.StatusReport], Awaitable[None]]
ReplyHandler = Callable[[str, str], Awaitable[None]]  # (phone, words)


class CmppChannel:
    name = ChannelName.SMS

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sp_id: str,
        secret: str,
        src_id: str,
        service_id: str = "",
        clock: Callable[[], datetime],
        timeout: float = 5.0,
        active_test_seconds: float = 60.0,
    ) -> None:
        self._host, self._port = host, port
        self._sp_id, self._secret, self._src_id = sp_id, secret, src_id
        self._service_id = service_id
        self._clock = clock
        self._timeout = timeout
        self._active_every = active_test_seconds
        self._sequence = itertools.cycle(range(1, 0x7FFFFFFF))
        self._references = itertools.cycle(range(256))
        self._link: _Link | None = None
        self._connecting = asyncio.Lock()
        self._sending = asyncio.Lock()
        self.on_report: ReportHandler | None = None
        self.on_reply: ReplyHandler | None = None

    async def send(self, address: str, text: str) -> str:
        number = "".join(ch for ch in address if ch.isdigit())
        if not 5 <= len(number) <= 21:
            raise SendFailed("not a phone number", retryable=False)
        parts = cmpp.parts(text, next(self._references))
        async with self._sending:
            link = await self._open()
            first: int | None = None
            for n, (udhi, content) in enumerate(parts, start=1):
                submit = cmpp.Submit(
                    sp_id=self._sp_id,
                    src_id=self._src_id,
                    destinations=(number,),
                    content=content,
                    service_id=self._service_id,
                    tp_udhi=udhi,
                    pk_total=len(parts),
                    pk_number=n,
                )
                reply = await link.request(Command.SUBMIT, submit.body(), self._timeout)
                answer = cmpp.SubmitResp.parse(reply.body)
                if answer.result != 0:
                    reason = cmpp.SUBMIT_RESULT.get(answer.result, "refused")
                    raise SendFailed(
                        f"CMPP_SUBMIT result {answer.result} ({reason})",
                        retryable=answer.result == 8,
                    )
                first = answer.msg_id if first is None else first
        assert first is not None
        return str(first)

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            await link.terminate(self._timeout)

    async def _open(self) -> _Link:
        async with self._connecting:
            if self._link is not None and self._link.alive:
                return self._link
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self._host, self._port), self._timeout
                )
            except (OSError, TimeoutError) as exc:
                raise SendFailed(f"gateway unreachable ({type(exc).__name__})") from None
            link = _Link(reader, writer, self._sequence, self._deliver, self._active_every)
            link.start()
            try:
                await self._authenticate(link)
            except BaseException:
                link.abort()
                raise
            self._link = link
            return link

    async def _authenticate(self, link: _Link) -> None:
        hello = cmpp.Connect.of(self._sp_id, self._secret, self._clock())
        reply = await link.request(Command.CONNECT, hello.body(), self._timeout)
        answer = cmpp.ConnectResp.parse(reply.body)
        if answer.status != 0:
            reason = cmpp.CONNECT_STATUS.get(answer.status, "refused")
            raise SendFailed(f"CMPP_CONNECT status {answer.status} ({reason})")
        expected = cmpp.authenticator_ismg(0, hello.authenticator, self._secret)
        if answer.authenticator != expected:
            raise SendFailed("the gateway's AuthenticatorISMG does not match the secret")

    async def _deliver(self, deliver: cmpp.Deliver) -> None:
        report = deliver.report
        if report is not None:
            if self.on_report is not None:
                await self.on_report(report)
        elif self.on_reply is not None:
            await self.on_reply(deliver.src_terminal_id, deliver.text())


class _Link:
    """One authenticated TCP connection: requests matched to answers by Sequence_Id."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        sequence: itertools.cycle[int],
        deliver: Callable[[cmpp.Deliver], Awaitable[None]],
        active_every: float,
    ) -> None:
        self._reader, self._writer = reader, writer
        self._sequence = sequence
        self._deliver = deliver
        self._active_every = active_every
        self._waiting: dict[int, asyncio.Future[Frame]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._handling: set[asyncio.Task[None]] = set()
        self._last_heard = asyncio.get_running_loop().time()
        self.alive = True

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._read(), name="cmpp-read"),
            asyncio.create_task(self._keep_alive(), name="cmpp-active-test"),
        ]

    async def request(self, command: Command, body: bytes, wait_seconds: float) -> Frame:
        if not self.alive:
            raise SendFailed("gateway connection closed")
        sequence = next(self._sequence)
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[sequence] = answer
        try:
            self._writer.write(Frame(command, sequence, body).encode())
            await self._writer.drain()
            return await asyncio.wait_for(answer, wait_seconds)
        except (OSError, TimeoutError) as exc:
            self.abort()
            raise SendFailed(f"gateway did not answer ({type(exc).__name__})") from None
        finally:
            self._waiting.pop(sequence, None)

    async def terminate(self, wait_seconds: float) -> None:
        with contextlib.suppress(SendFailed):
            await self.request(Command.TERMINATE, b"", wait_seconds)
        self.abort()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), wait_seconds)

    def abort(self) -> None:
        """Close at once: the tasks stop, waiting requests fail. Nothing here awaits, so
        that it may run from the reader itself."""
        if not self.alive and self._writer.is_closing():
            return
        self.alive = False
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current:
                task.cancel()
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(SendFailed("gateway connection closed"))
        self._writer.close()

    async def _read(self) -> None:
        decoder = cmpp.Decoder()
        try:
            while data := await self._reader.read(4096):
                self._last_heard = asyncio.get_running_loop().time()
                for frame in decoder.feed(data):
                    await self._on_frame(frame)
        except (OSError, cmpp.ProtocolError) as exc:
            log.warning("CMPP link dropped: %s", type(exc).__name__)
        self.abort()

    async def _on_frame(self, frame: Frame) -> None:
        if frame.command & 0x80000000:
            waiting = self._waiting.get(frame.sequence)
            if waiting is not None and not waiting.done():
                waiting.set_result(frame)
            return
        if frame.command is Command.DELIVER:
            deliver = cmpp.Deliver.parse(frame.body)
            self._answer(frame, Command.DELIVER_RESP, cmpp.DeliverResp(deliver.msg_id, 0).body())
            handling = asyncio.create_task(self._handle(deliver), name="cmpp-deliver")
            self._handling.add(handling)  # the reader goes on: answers are not held up
            handling.add_done_callback(self._handling.discard)
        elif frame.command is Command.ACTIVE_TEST:
            self._answer(frame, Command.ACTIVE_TEST_RESP, b"\0")
        elif frame.command is Command.TERMINATE:
            self._answer(frame, Command.TERMINATE_RESP, b"")
            self.alive = False

    async def _handle(self, deliver: cmpp.Deliver) -> None:
        try:
            await self._deliver(deliver)
        except Exception:
            log.exception("handling a CMPP_DELIVER failed")

    def _answer(self, frame: Frame, command: Command, body: bytes) -> None:
        self._writer.write(Frame(command, frame.sequence, body).encode())

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        while self.alive:
            await asyncio.sleep(self._active_every / 4)
            if loop.time() - self._last_heard >= self._active_every:
                with contextlib.suppress(SendFailed):  # request() closes a silent link
                    await self.request(Command.ACTIVE_TEST, b"", self._active_every / 2)
