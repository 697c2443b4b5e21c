"""The tests' OpenID provider: tests/oidc/provider.mjs (panva's oidc-provider, OpenID
Certified) started as a Node process on a free loopback port, stopped by its PID.
`scripts/test` installs its npm dependencies (tests/oidc/package-lock.json)."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import LiveServer, _test_settings, free_port, start_server

FOLDER = Path(__file__).resolve().parent / "oidc"
START_SECONDS = 20


@dataclass(frozen=True)
class IdpUser:
    """A person at the identity platform: `claims` go into the ID token (profile scope);
    `amr` is how the platform says it authenticated them."""

    login: str
    password: str
    claims: dict[str, Any]
    amr: tuple[str, ...] = ("pwd",)
    sub: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_provider(
    tmp: Path,
    *,
    port: int,
    redirect_uris: Sequence[str],
    users: Sequence[IdpUser],
    userinfo_only: bool = False,
) -> OidcProvider:
    """A running provider with one confidential client (PKCE required) for
    `redirect_uris`; `userinfo_only`: the profile claims (officer_number) only in
    UserInfo, as OpenID Connect Core's strict reading has it. RuntimeError (with its
    output) when it does not start."""
    node = shutil.which("node")
    if node is None or not (FOLDER / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("node or tests/oidc/node_modules missing: run scripts/test")
    client_id, client_secret = "command-center", secrets.token_urlsafe(24)
    config = {
        "port": port,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uris": list(redirect_uris),
        "userinfo_only": userinfo_only,
        "users": [
            {
                "sub": u.sub,
                "login": u.login,
                "password": u.password,
                "claims": u.claims,
                "amr": list(u.amr),
            }
            for u in users
        ],
    }
    config_path = tmp / "oidc-config.json"
    config_path.write_text(json.dumps(config, ensure_ascii=False), "utf-8")
    log_path = tmp / "oidc-provider.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [node, str(FOLDER / "provider.mjs"), str(config_path)],
            cwd=FOLDER,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    issuer = f"http://127.0.0.1:{port}"
    provider = OidcProvider(issuer, client_id, client_secret, process)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        if f"ready {issuer}" in log_path.read_text():
            return provider
        time.sleep(0.1)
    provider.stop()
    raise RuntimeError(f"the OpenID provider did not start: {log_path.read_text()[-2000:]}")


@contextmanager
def sso_servers(
    tmp: Path, users: Sequence[IdpUser], *extras: dict[str, Any]
) -> Iterator[tuple[OidcProvider, list[LiveServer]]]:
    """A provider and, per `extras` (settings beyond the test defaults), a live
    command-center server configured for single sign-on at it; all stopped after."""
    ports = [free_port() for _ in extras]
    provider = start_provider(
        tmp,
        port=free_port(),
        redirect_uris=[f"http://127.0.0.1:{port}/auth/sso/callback" for port in ports],
        users=users,
    )
    servers: list[LiveServer] = []
    try:
        for port, extra in zip(ports, extras, strict=True):
            settings = _test_settings(
                public_base_url=f"http://127.0.0.1:{port}",
                oidc_issuer=provider.issuer,
                oidc_client_id=provider.client_id,
                oidc_client_secret=provider.client_secret,
                **extra,
            )
            servers.append(start_server(settings, port=port))
        yield provider, servers
    finally:
        for server in servers:
            server.stop()
        provider.stop()


def _location(answer: httpx.Response) -> httpx.URL:
    return answer.url.join(answer.headers["location"])


async def callback_url(
    client: httpx.AsyncClient, start: httpx.Response | str, *, login: str, password: str
) -> httpx.URL:
    """What a person's browser does at the portal: follow our redirect to the issuer,
    fill in its sign-in page (unless the portal's session already knows the person:
    single sign-on), and follow it until it is sent back to our callback; that URL
    (code, state, iss), not yet requested. `start` is our answer to GET /auth/sso/login,
    or the authorization URL itself."""
    signed_in = False
    if isinstance(start, str):
        answer = await client.get(start)
    else:
        assert start.status_code == 302, start.text
        answer = start
    for _ in range(10):
        assert answer.is_redirect, answer.text
        target = _location(answer)
        if target.path == "/auth/sso/callback":
            return target
        if target.path.startswith("/interaction/") and not signed_in:
            page = await client.get(target)
            assert page.status_code == 200 and 'name="password"' in page.text, page.text
            answer = await client.post(target, data={"login": login, "password": password})
            signed_in = True
        else:
            answer = await client.get(target)
    raise AssertionError("the provider never sent the browser back")


async def sign_on_at_provider(
    client: httpx.AsyncClient, start: httpx.Response, *, login: str, password: str
) -> httpx.Response:
    """callback_url, then our callback's answer to it (not followed)."""
    return await client.get(await callback_url(client, start, login=login, password=password))
