"""The ID token is believed only when it verifies: a real token of the real provider
passes; the same token with another nonce, an altered payload, for another audience,
signed by a key the issuer does not publish, or unsigned, is refused; an issuer whose
discovery names another issuer is refused before any redirect."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from command_center.accounts import sso
from command_center.settings import Settings
from tests.conftest import _test_settings, free_port
from tests.oidc_provider import IdpUser, OidcProvider, callback_url, start_provider

pytestmark = pytest.mark.asyncio(loop_scope="session")

PERSON = IdpUser("sun", "Portal-pw-7", {"name": "孙七", "officer_number": "SSO-33110007"})
REDIRECT_BASE = "http://127.0.0.1:9"  # never requested: the test plays the browser
Issued = tuple[sso.OidcClient, dict[str, Any], str]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    running = start_provider(
        tmp_path_factory.mktemp("oidc"),
        port=free_port(),
        redirect_uris=[f"{REDIRECT_BASE}/auth/sso/callback"],
        users=[PERSON],
    )
    yield running
    running.stop()


def settings_for(provider: OidcProvider, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "public_base_url": REDIRECT_BASE,
        "oidc_issuer": provider.issuer,
        "oidc_client_id": provider.client_id,
        "oidc_client_secret": provider.client_secret,
        **extra,
    }
    return _test_settings(**values)


@pytest.fixture
async def issued(
    provider: OidcProvider,
) -> AsyncIterator[Issued]:
    """(our client, the token endpoint's answer, the nonce) of one real sign-on."""
    client = sso.OidcClient(settings_for(provider))
    started = await client.start(next_path="/console")
    async with httpx.AsyncClient(timeout=15) as browser:
        back = await callback_url(
            browser, started.url, login=PERSON.login, password=PERSON.password
        )
    code = parse_qs(back.query.decode())["code"][0]
    token = await client.exchange(code=code, code_verifier=started.transaction.code_verifier)
    yield client, token, started.transaction.nonce


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def refused(client: sso.OidcClient, token: dict[str, Any], nonce: str) -> str:
    with pytest.raises(sso.SignOnFailed) as raised:
        await client.verify_id_token(token, nonce=nonce)
    assert raised.value.status == 401
    return raised.value.reason


async def test_a_real_id_token_verifies_and_carries_the_officer_number(
    issued: Issued,
) -> None:
    client, token, nonce = issued
    claims = await client.verify_id_token(token, nonce=nonce)
    assert claims["officer_number"] == "SSO-33110007" and claims["sub"] == PERSON.sub


async def test_another_nonce_is_refused(issued: Issued) -> None:
    client, token, _ = issued
    assert await refused(client, token, "not-the-nonce-we-sent") == "id_token_invalid"


async def test_an_altered_payload_is_refused(
    issued: Issued,
) -> None:
    client, token, nonce = issued
    header, payload, signature = token["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["officer_number"] = "SSO-00000001"  # someone else's account
    forged = {**token, "id_token": f"{header}.{_segment(claims)}.{signature}"}
    assert await refused(client, forged, nonce) == "id_token_invalid"


async def test_a_token_for_another_client_is_refused(
    provider: OidcProvider, issued: Issued
) -> None:
    _, token, nonce = issued
    other = sso.OidcClient(settings_for(provider, oidc_client_id="another-service"))
    assert await refused(other, token, nonce) == "id_token_invalid"


async def test_a_key_the_issuer_does_not_publish_and_no_signature_are_refused(
    issued: Issued,
) -> None:
    client, token, nonce = issued
    real = await client.verify_id_token(token, nonce=nonce)
    own_key = RSAKey.generate_key(2048, parameters={"kid": "not-the-issuers"})
    signed = jwt.encode({"alg": "RS256", "kid": "not-the-issuers"}, real, own_key)
    assert await refused(client, {**token, "id_token": signed}, nonce) == "id_token_invalid"
    unsigned = f"{_segment({'alg': 'none'})}.{_segment(real)}."
    assert await refused(client, {**token, "id_token": unsigned}, nonce) == "id_token_invalid"


async def test_an_issuer_whose_discovery_names_another_is_refused(provider: OidcProvider) -> None:
    # the same provider under another name: its discovery document says 127.0.0.1
    renamed = provider.issuer.replace("127.0.0.1", "localhost")
    client = sso.OidcClient(settings_for(provider, oidc_issuer=renamed))
    with pytest.raises(sso.SignOnFailed) as raised:
        await client.start(next_path="/console")
    assert raised.value.reason == "issuer_mismatch" and raised.value.status == 503


async def test_a_claim_kept_out_of_the_id_token_is_read_from_userinfo(
    tmp_path: Path,
) -> None:
    """A platform that releases officer_number in UserInfo only: the whole callback
    (state, iss, code, ID token) goes through and the claim comes from UserInfo."""
    strict = start_provider(
        tmp_path,
        port=free_port(),
        redirect_uris=[f"{REDIRECT_BASE}/auth/sso/callback"],
        users=[PERSON],
        userinfo_only=True,
    )
    try:
        client = sso.OidcClient(settings_for(strict))
        started = await client.start(next_path="/console/wall")
        async with httpx.AsyncClient(timeout=15) as browser:
            back = await callback_url(
                browser, started.url, login=PERSON.login, password=PERSON.password
            )
        query = dict(parse_qsl(back.query.decode()))
        verified = await client.finish(cookie=started.cookie, query=query)
    finally:
        strict.stop()
    assert "officer_number" not in verified.claims
    assert verified.userinfo_claims["officer_number"] == "SSO-33110007"
    assert verified.userinfo_claims["sub"] == verified.claims["sub"]
    assert verified.next_path == "/console/wall"
