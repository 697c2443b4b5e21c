"""OpenID Connect single sign-on, the protocol side: discovery, the authorization
request (authorization code, PKCE S256, state, nonce) and the callback (code exchange,
ID-token verification). Authlib does the OAuth and JOSE work; this module keeps what
the request must remember between the two legs in a short-lived signed cookie.

What a verified sign-on yields is the ID token's claims (iss, aud, exp, iat, nonce,
signature against the issuer's JWKS checked by Authlib; the issuer of discovery
checked to equal OIDC_ISSUER); `SignOnFailed` otherwise, carrying a reason code for the
audit log and a message fit for the person signing on. Nothing here touches accounts:
`sso_service` maps the claims to one.

Discovery and the JWKS are fetched on the first sign-on and kept for the process; a
token signed with a key id not in the kept JWKS makes Authlib fetch it once more (key
rotation). The issuer being unreachable answers `SignOnFailed("unavailable")`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError

from command_center.settings import Settings

TRANSACTION_COOKIE = "cc_sso"
TRANSACTION_PATH = "/auth/sso"
TRANSACTION_SECONDS = 600  # a sign-on at the portal has ten minutes to come back
CALLBACK_PATH = "/auth/sso/callback"
HTTP_TIMEOUT_SECONDS = 10.0
LEEWAY_SECONDS = 60  # clock skew between the issuer and us


class SignOnFailed(Exception):
    """A sign-on that cannot go on. `reason` is a stable code (audit log, tests);
    `message` is for the person; `status` the HTTP status of the page that says so."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Transaction:
    """What the callback must find again: the state sent, the nonce expected in the ID
    token, the PKCE verifier, and where to go after."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str


@dataclass(frozen=True, slots=True)
class Started:
    url: str
    cookie: str  # the signed transaction, for TRANSACTION_COOKIE
    transaction: Transaction


@dataclass(frozen=True, slots=True)
class Verified:
    claims: dict[str, Any]
    userinfo_claims: dict[str, Any]  # {} unless the ID token lacked the account claim
    next_path: str


class OidcClient:
    """One configured issuer and client. Build one per process (`client_of`)."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer, "single sign-on is not configured"
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.redirect_uri = settings.public_base_url + CALLBACK_PATH
        self.account_claim = settings.oidc_account_claim
        self._key = _transaction_key(settings.signing_key())
        secret = settings.oidc_client_secret
        registry = OAuth()
        self._app: Any = registry.register(
            "issuer",
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=self.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": " ".join(settings.oidc_scopes),
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
                "timeout": HTTP_TIMEOUT_SECONDS,
            },
        )

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self._app.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            raise _unavailable("discovery", exc) from None
        if metadata.get("issuer") != self.issuer:
            self._app.server_metadata.clear()  # read it again next time
            raise SignOnFailed(
                "issuer_mismatch",
                "the identity platform's discovery names another issuer; "
                "ask the administrator to check OIDC_ISSUER",
                503,
            )
        return metadata

    async def start(self, *, next_path: str) -> Started:
        """The authorization URL to send the browser to, and the transaction cookie."""
        await self._metadata()
        created = await self._app.create_authorization_url(self.redirect_uri)
        transaction = Transaction(
            state=created["state"],
            nonce=created["nonce"],
            code_verifier=created["code_verifier"],
            next_path=next_path,
        )
        return Started(url=created["url"], cookie=self._seal(transaction), transaction=transaction)

    async def finish(self, *, cookie: str | None, query: dict[str, str]) -> Verified:
        """Check the callback's state against the transaction cookie, exchange the code
        (the issuer refuses a code used before: a replay fails here) and verify the ID
        token. SignOnFailed for every way this can go wrong."""
        transaction = self._open(cookie)
        if not hmac.compare_digest(query.get("state", ""), transaction.state):
            raise SignOnFailed(
                "state_mismatch", "this sign-on does not belong to this browser; start again"
            )
        if "error" in query:
            raise SignOnFailed(
                "issuer_refused",
                f"the identity platform did not sign you in ({query['error'][:60]})",
            )
        # RFC 9207: an issuer that names itself in the answer must name the right one.
        if "iss" in query and query["iss"] != self.issuer:
            raise SignOnFailed("issuer_mismatch", "the answer came from another issuer")
        code = query.get("code", "")
        if not code:
            raise SignOnFailed("no_code", "the identity platform sent no code", 400)
        await self._metadata()
        token = await self.exchange(code=code, code_verifier=transaction.code_verifier)
        claims = await self.verify_id_token(token, nonce=transaction.nonce)
        userinfo: dict[str, Any] = {}
        if self.account_claim not in claims:
            userinfo = await self._userinfo(token, subject=str(claims["sub"]))
        return Verified(claims=claims, userinfo_claims=userinfo, next_path=transaction.next_path)

    async def exchange(self, *, code: str, code_verifier: str) -> dict[str, Any]:
        """The token endpoint's answer for a code (with the PKCE verifier): SignOnFailed
        `code_refused` when the issuer refuses it (used before, expired, another's)."""
        try:
            token: dict[str, Any] = await self._app.fetch_access_token(
                redirect_uri=self.redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            # invalid_grant: the code was used before, expired, or issued to someone else
            raise SignOnFailed(
                "code_refused",
                f"the identity platform refused the sign-on code ({exc.error}); start again",
            ) from None
        except httpx.HTTPError as exc:
            raise _unavailable("token", exc) from None
        if "id_token" not in token:
            raise SignOnFailed("no_id_token", "the identity platform sent no ID token")
        return token

    async def verify_id_token(self, token: dict[str, Any], *, nonce: str) -> dict[str, Any]:
        """The ID token's claims once its signature (the issuer's JWKS, refetched once for
        an unknown key id), iss, aud, exp, iat, nonce and at_hash check out; SignOnFailed
        `id_token_invalid` otherwise."""
        options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
        }
        try:
            claims = await self._app.parse_id_token(
                token, nonce=nonce, claims_options=options, leeway=LEEWAY_SECONDS
            )
        except JoseError as exc:
            raise SignOnFailed(
                "id_token_invalid", f"the ID token does not verify ({exc.error})"
            ) from None
        except httpx.HTTPError as exc:
            raise _unavailable("jwks", exc) from None
        return dict(claims)

    async def _userinfo(self, token: dict[str, Any], *, subject: str) -> dict[str, Any]:
        """UserInfo, when the issuer keeps the account claim out of the ID token. Its sub
        must equal the ID token's (OpenID Connect Core 5.3.2)."""
        try:
            info = dict(await self._app.userinfo(token=token))
        except (httpx.HTTPError, KeyError, OAuthError):
            return {}
        return info if info.get("sub") == subject else {}

    def _seal(self, transaction: Transaction) -> str:
        body = {
            "st": transaction.state,
            "n": transaction.nonce,
            "cv": transaction.code_verifier,
            "nx": transaction.next_path,
            "exp": int(time.time()) + TRANSACTION_SECONDS,
        }
        return jwt.encode(body, self._key, algorithm="HS256")

    def _open(self, cookie: str | None) -> Transaction:
        if not cookie:
            raise SignOnFailed(
                "no_transaction",
                "this sign-on was not started here, or took longer than "
                f"{TRANSACTION_SECONDS // 60} minutes; start again",
            )
        try:
            body = jwt.decode(cookie, self._key, algorithms=["HS256"])
            return Transaction(
                state=str(body["st"]),
                nonce=str(body["n"]),
                code_verifier=str(body["cv"]),
                next_path=str(body["nx"]),
            )
        except (jwt.PyJWTError, KeyError):
            raise SignOnFailed(
                "no_transaction", "this sign-on has expired or was altered; start again"
            ) from None


def _transaction_key(signing_key: str) -> str:
    """A key of its own for the transaction cookie, derived from SECRET_KEY, so that a
    transaction can never pass for a bearer token or the other way round."""
    return hmac.new(signing_key.encode(), b"oidc-transaction", hashlib.sha256).hexdigest()


def _unavailable(step: str, exc: Exception) -> SignOnFailed:
    return SignOnFailed(
        "unavailable",
        f"the identity platform cannot be reached ({step}: {type(exc).__name__}); "
        "try again later or sign in with a password",
        503,
    )


def client_of(settings: Settings) -> OidcClient | None:
    """The client of the configured issuer; None when single sign-on is off."""
    return OidcClient(settings) if settings.oidc_issuer else None
