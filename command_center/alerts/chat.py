"""Work-messaging apps over their documented HTTP APIs: DingTalk (and 浙政钉, which
speaks it) work notifications, WeCom (企业微信) application messages.

- DingTalk: `GET {base}/gettoken?appkey=&appsecret=` gives `access_token` and
  `expires_in`; `POST {base}/topapi/message/corpconversation/asyncsend_v2?access_token=`
  with `agent_id`, `userid_list` and `msg` answers `task_id`.
- WeCom: `GET {base}/cgi-bin/gettoken?corpid=&corpsecret=`; `POST
  {base}/cgi-bin/message/send?access_token=` with `touser`, `agentid`, `msgtype: text`
  answers `msgid` (and `invaliduser` for a userid it does not know).

Both answer `errcode` 0 on success. A token is cached until a minute before it expires;
an answer of 40014 (invalid token) or 42001 (expired) drops it and the send is tried
once more with a new one. Other errcodes fail the send: -1 (busy) and 45009 (rate
limited) may be retried, the rest not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from command_center.alerts.model import ChannelName, SendFailed

TOKEN_ERRORS = frozenset({40014, 42001})
BUSY_ERRORS = frozenset({-1, 45009})
EARLY_REFRESH_SECONDS = 60


class AccessToken:
    """One cached access token, fetched by `fetch` (which returns token and lifetime in
    seconds); concurrent callers wait for one fetch."""

    def __init__(self, fetch: Callable[[], Awaitable[tuple[str, int]]]) -> None:
        self._fetch = fetch
        self._token: str | None = None
        self._until = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._until:
                token, lifetime = await self._fetch()
                self.fetches += 1
                self._token = token
                self._until = time.monotonic() + max(lifetime - EARLY_REFRESH_SECONDS, 1)
            return self._token

    def drop(self, token: str) -> None:
        if self._token == token:
            self._token = None


async def _call(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise SendFailed(f"unreachable ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise SendFailed(f"HTTP {response.status_code}", retryable=response.status_code >= 500)
    try:
        body = response.json()
    except ValueError:
        raise SendFailed("the answer is not JSON") from None
    if not isinstance(body, dict):
        raise SendFailed("the answer is not a JSON object")
    return body


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", 0))
    except (TypeError, ValueError):
        return -1


def _failed(body: dict[str, Any], what: str) -> SendFailed:
    code = _errcode(body)
    message = str(body.get("errmsg", ""))[:200]
    return SendFailed(f"{what} errcode {code} {message}".strip(), retryable=code in BUSY_ERRORS)


class _TokenChannel:
    """What both apps share: a token fetched by credentials, a send retried once with a
    new token when the old one was refused."""

    def __init__(self, *, base: str, timeout: float) -> None:
        self._base = base.rstrip("/")
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.token = AccessToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, int]:
        raise NotImplementedError

    async def _post(self, token: str, address: str, text: str) -> dict[str, Any]:
        raise NotImplementedError

    def _message_id(self, body: dict[str, Any], address: str) -> str:
        raise NotImplementedError

    async def send(self, address: str, text: str) -> str:
        for _ in range(2):
            token = await self.token.get()
            body = await self._post(token, address, text)
            code = _errcode(body)
            if code in TOKEN_ERRORS:
                self.token.drop(token)
                continue
            if code != 0:
                raise _failed(body, "send")
            return self._message_id(body, address)
        raise SendFailed("the access token was refused twice")

    async def _token_answer(self, path: str, params: dict[str, str]) -> tuple[str, int]:
        body = await _call(self._client, "GET", f"{self._base}{path}", params=params)
        if _errcode(body) != 0 or not body.get("access_token"):
            raise _failed(body, "gettoken")
        return str(body["access_token"]), int(body.get("expires_in", 7200))

    async def close(self) -> None:
        await self._client.aclose()


class DingTalkChannel(_TokenChannel):
    name = ChannelName.DINGTALK

    def __init__(
        self, *, base: str, app_key: str, app_secret: str, agent_id: int, timeout: float = 10.0
    ) -> None:
        super().__init__(base=base, timeout=timeout)
        self._key, self._secret, self._agent = app_key, app_secret, agent_id

    async def _fetch_token(self) -> tuple[str, int]:
        return await self._token_answer(
            "/gettoken", {"appkey": self._key, "appsecret": self._secret}
        )

    async def _post(self, token: str, address: str, text: str) -> dict[str, Any]:
        return await _call(
            self._client,
            "POST",
            f"{self._base}/topapi/message/corpconversation/asyncsend_v2",
            params={"access_token": token},
            json={
                "agent_id": self._agent,
                "userid_list": address,
                "msg": {"msgtype": "text", "text": {"content": text}},
            },
        )

    def _message_id(self, body: dict[str, Any], address: str) -> str:
        return str(body.get("task_id", ""))


class WeComChannel(_TokenChannel):
    name = ChannelName.WECOM

    def __init__(
        self, *, base: str, corp_id: str, corp_secret: str, agent_id: int, timeout: float = 10.0
    ) -> None:
        super().__init__(base=base, timeout=timeout)
        self._corp, self._secret, self._agent = corp_id, corp_secret, agent_id

    async def _fetch_token(self) -> tuple[str, int]:
        return await self._token_answer(
            "/cgi-bin/gettoken", {"corpid": self._corp, "corpsecret": self._secret}
        )

    async def _post(self, token: str, address: str, text: str) -> dict[str, Any]:
        return await _call(
            self._client,
            "POST",
            f"{self._base}/cgi-bin/message/send",
            params={"access_token": token},
            json={
                "touser": address,
                "msgtype": "text",
                "agentid": self._agent,
                "text": {"content": text},
                "safe": 0,
            },
        )

    def _message_id(self, body: dict[str, Any], address: str) -> str:
        if address in str(body.get("invaliduser", "")).split("|"):
            raise SendFailed("WeCom does not know this userid", retryable=False)
        return str(body.get("msgid", ""))
