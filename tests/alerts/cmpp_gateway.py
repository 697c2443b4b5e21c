"""A stand-in China Mobile SMS gateway (ISMG) for tests: an asyncio TCP server on
loopback that speaks CMPP 2.0 as the SP side expects it — CMPP_CONNECT checked against
the MD5 AuthenticatorSource and answered with AuthenticatorISMG, CMPP_SUBMIT answered
with a Msg_Id, a CMPP_DELIVER status report (`DELIVRD` unless told otherwise) for every
submit that asked for one, CMPP_ACTIVE_TEST and CMPP_TERMINATE answered. It can also send
a phone's reply (CMPP_DELIVER, Registered_Delivery 0) and drop its connections.

It runs its own event loop in a thread, so that a server under test in another thread
(or the test's own loop) can reach it. It is built on the codec under test
(command_center.alerts.cmpp), whose byte layouts tests/alerts/test_cmpp_codec.py pins
against the specification's field widths independently.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from command_center.alerts import cmpp
from command_center.alerts.cmpp import Command, Frame


@dataclass(frozen=True)
class Received:
    submit: cmpp.Submit
    msg_id: int
    at: float  # time.monotonic() when it arrived

    @property
    def number(self) -> str:
        return self.submit.destinations[0]


class CmppGateway:
    def __init__(self, *, sp_id: str, secret: str) -> None:
        self.sp_id, self.secret = sp_id, secret
        self.submits: list[Received] = []
        self.connects = 0
        self.refused_connects = 0
        self.active_tests = 0
        self.report_acks: list[int] = []
        self.report_stat = "DELIVRD"
        self.submit_result = 0
        self.answer_active_test = True
        self._ids = itertools.count(0x1234_0000_0000_0001)
        self._sessions: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cmpp-gateway", daemon=True)
        self.port = 0

    # --- control, from any thread ---------------------------------------------------

    def start(self) -> CmppGateway:
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("the stand-in CMPP gateway did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def drop_connections(self) -> None:
        self._call(self._drop)

    def reply(self, phone: str, words: str) -> None:
        """A phone's message to the SP (an MO), e.g. 退订."""
        deliver = cmpp.Deliver(
            msg_id=next(self._ids),
            dest_id="106",
            src_terminal_id=phone,
            content=words.encode("utf-16-be"),
        )
        self._call(lambda: self._broadcast(deliver))

    def texts_to(self, number: str) -> list[str]:
        """The texts a number got, long ones put back together."""
        texts, pending = [], ""
        for received in [r for r in self.submits if r.number == number]:
            content = received.submit.content
            if received.submit.tp_udhi:
                header = content[0] + 1
                pending += content[header:].decode("utf-16-be")
                if content[5] == content[4]:  # the last part
                    texts.append(pending)
                    pending = ""
            else:
                texts.append(content.decode("utf-16-be"))
        return texts

    def wait_for(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway state: {len(self.submits)} submits")
            time.sleep(0.02)

    # --- the server, on its own loop ------------------------------------------------

    def _call(self, work: Callable[[], object]) -> None:
        done = threading.Event()

        def run() -> None:
            work()
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for writer in list(self._sessions):
            writer.close()

    def _drop(self) -> None:
        for writer in list(self._sessions):
            writer.transport.abort()
        self._sessions.clear()

    def _broadcast(self, deliver: cmpp.Deliver) -> None:
        for writer in self._sessions:
            writer.write(
                Frame(Command.DELIVER, next(self._ids) & 0x7FFFFFFF, deliver.body()).encode()
            )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = cmpp.Decoder()
        authenticated = False
        try:
            while data := await reader.read(4096):
                for frame in decoder.feed(data):
                    if frame.command is Command.CONNECT:
                        authenticated = self._connect(frame, writer)
                        if not authenticated:
                            return
                    elif not authenticated:
                        return  # anything before a good CONNECT: the link is closed
                    elif frame.command is Command.SUBMIT:
                        self._submit(frame, writer)
                    elif frame.command is Command.ACTIVE_TEST:
                        self.active_tests += 1
                        if self.answer_active_test:
                            answer = Frame(Command.ACTIVE_TEST_RESP, frame.sequence, b"\0")
                            writer.write(answer.encode())
                    elif frame.command is Command.DELIVER_RESP:
                        self.report_acks.append(cmpp.DeliverResp.parse(frame.body).msg_id)
                    elif frame.command is Command.TERMINATE:
                        writer.write(Frame(Command.TERMINATE_RESP, frame.sequence).encode())
                        return
        except (ConnectionError, cmpp.ProtocolError):
            return
        finally:
            self._sessions.discard(writer)
            writer.close()

    def _connect(self, frame: Frame, writer: asyncio.StreamWriter) -> bool:
        hello = cmpp.Connect.parse(frame.body)
        expected = cmpp.authenticator_source(self.sp_id, self.secret, hello.stamp())
        good = hello.source_addr == self.sp_id and hello.authenticator == expected
        status = 0 if good else 3
        ismg = cmpp.authenticator_ismg(status, hello.authenticator, self.secret)
        writer.write(
            Frame(
                Command.CONNECT_RESP, frame.sequence, cmpp.ConnectResp(status, ismg).body()
            ).encode()
        )
        if good:
            self.connects += 1
            self._sessions.add(writer)
        else:
            self.refused_connects += 1
        return good

    def _submit(self, frame: Frame, writer: asyncio.StreamWriter) -> None:
        submit = cmpp.Submit.parse(frame.body)
        msg_id = next(self._ids)
        if self.submit_result == 0:
            self.submits.append(Received(submit, msg_id, time.monotonic()))
        answer = cmpp.SubmitResp(msg_id, self.submit_result)
        writer.write(Frame(Command.SUBMIT_RESP, frame.sequence, answer.body()).encode())
        if self.submit_result == 0 and submit.registered_delivery == 1:
            report = cmpp.StatusReport(
                msg_id=msg_id,
                stat=self.report_stat,
                submit_time="2612031800",
                done_time="2612031800",
                dest_terminal_id=submit.destinations[0],
            )
            deliver = cmpp.Deliver(
                msg_id=next(self._ids),
                dest_id=submit.src_id,
                src_terminal_id=submit.destinations[0],
                content=report.content(),
                registered_delivery=1,
            )
            self._loop.call_later(
                0.05,
                lambda: writer.write(
                    Frame(Command.DELIVER, frame.sequence | 0x4000_0000, deliver.body()).encode()
                ),
            )
