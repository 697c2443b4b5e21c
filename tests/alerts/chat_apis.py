"""Stand-ins for the two work-messaging apps' server APIs, for tests: small HTTP servers
on loopback that answer the documented request and response shapes.

- DingTalk (`kind="dingtalk"`): `GET /gettoken?appkey=&appsecret=` →
  `{"errcode": 0, "access_token", "expires_in"}`; `POST
  /topapi/message/corpconversation/asyncsend_v2?access_token=` with `agent_id`,
  `userid_list`, `msg` → `{"errcode": 0, "task_id", "request_id"}`; a stale token is
  answered with errcode 40014, bad credentials with 40089.
- WeCom (`kind="wecom"`): `GET /cgi-bin/gettoken?corpid=&corpsecret=`; `POST
  /cgi-bin/message/send?access_token=` with `touser`, `agentid`, `msgtype`, `text` →
  `{"errcode": 0, "msgid", "invaliduser"}`; an expired token is errcode 42001, a bad
  secret 40001; users it does not know are named in `invaliduser`, and a message to no
  known user at all is errcode 81013.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ChatApi:
    def __init__(self, kind: str, *, key: str, secret: str, agent_id: int, users: set[str]) -> None:
        assert kind in ("dingtalk", "wecom")
        self.kind, self.key, self.secret, self.agent_id = kind, key, secret, agent_id
        self.users = users
        self.messages: list[dict[str, Any]] = []
        self.arrived: list[float] = []
        self.token_requests = 0
        self.busy = 0  # answer this many sends with errcode -1 (system busy)
        self._tokens: set[str] = set()
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api._answer(self, api._get(urlsplit(self.path)))

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api._answer(self, api._post(urlsplit(self.path), body))

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    def expire_tokens(self) -> None:
        with self._lock:
            self._tokens.clear()

    def texts_to(self, user: str) -> list[str]:
        field = "userid_list" if self.kind == "dingtalk" else "touser"
        texts = []
        for message in list(self.messages):
            if user in str(message[field]).replace("|", ",").split(","):
                content = message["msg"] if self.kind == "dingtalk" else message
                texts.append(content["text"]["content"])
        return texts

    def wait_for(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.kind}: {len(self.messages)} messages")
            time.sleep(0.02)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _get(self, url: Any) -> dict[str, Any]:
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if self.kind == "dingtalk":
            path, fields, bad = "/gettoken", ("appkey", "appsecret"), 40089
        else:
            path, fields, bad = "/cgi-bin/gettoken", ("corpid", "corpsecret"), 40001
        if url.path != path:
            return {"errcode": 404, "errmsg": "no such API"}
        with self._lock:
            self.token_requests += 1
            if (query.get(fields[0]), query.get(fields[1])) != (self.key, self.secret):
                return {"errcode": bad, "errmsg": "invalid credential"}
            token = f"token-{next(self._serial)}"
            self._tokens.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _post(self, url: Any, body: dict[str, Any]) -> dict[str, Any]:
        token = parse_qs(url.query).get("access_token", [""])[0]
        expected = (
            "/topapi/message/corpconversation/asyncsend_v2"
            if self.kind == "dingtalk"
            else "/cgi-bin/message/send"
        )
        if url.path != expected:
            return {"errcode": 404, "errmsg": "no such API"}
        with self._lock:
            if token not in self._tokens:
                code = 40014 if self.kind == "dingtalk" else 42001
                return {"errcode": code, "errmsg": "access_token expired or invalid"}
            if self.busy:
                self.busy -= 1
                return {"errcode": -1, "errmsg": "system busy"}
        if self.kind == "dingtalk":
            assert body["agent_id"] == self.agent_id and body["msg"]["msgtype"] == "text"
            self.messages.append(body)
            self.arrived.append(time.monotonic())
            return {"errcode": 0, "errmsg": "ok", "task_id": next(self._serial), "request_id": "r"}
        assert body["agentid"] == self.agent_id and body["msgtype"] == "text"
        unknown = [u for u in str(body["touser"]).split("|") if u not in self.users]
        if len(unknown) == len(str(body["touser"]).split("|")):
            return {"errcode": 81013, "errmsg": "user & party & tag all invalid"}
        self.messages.append(body)
        self.arrived.append(time.monotonic())
        return {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(unknown),
            "msgid": f"msg-{next(self._serial)}",
        }
