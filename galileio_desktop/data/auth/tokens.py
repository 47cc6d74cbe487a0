"""The tokens of a Cognito sign-in, and keeping them fresh.

The user id is the ID token's ``sub``, as in the web app. The token's payload is
decoded without checking its signature: the token came straight from Cognito over
TLS, and every service we call with it (the identity pool, the Galileo endpoint)
verifies it again; we only read ``sub``, ``iat`` and ``exp`` from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import CredentialsError
from .redaction import register_secret

log = logging.getLogger(__name__)

#: Renew tokens this long before they expire (or a quarter of their lifetime, if shorter).
TOKEN_RENEW_MARGIN_S = 300.0


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying its signature (see the module doc)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error) as exc:
        raise CredentialsError("Cognito returned a token that cannot be read; please sign in again.") from exc
    if not isinstance(data, dict):
        raise CredentialsError("Cognito returned a token that cannot be read; please sign in again.")
    return data


@dataclass(frozen=True)
class Tokens:
    """The user pool tokens of one sign-in."""

    id_token: str
    access_token: str
    refresh_token: str | None
    #: When the ID token expires and when it was issued (epoch seconds).
    expires_at: float
    issued_at: float

    @classmethod
    def from_result(cls, result: dict[str, Any], refresh_token: str | None, now: float) -> Tokens:
        id_token = str(result["IdToken"])
        claims = jwt_claims(id_token)
        issued = float(claims.get("iat", now))
        expires = float(claims.get("exp", now + float(result.get("ExpiresIn", 3600))))
        tokens = cls(
            id_token=id_token,
            access_token=str(result.get("AccessToken", "")),
            refresh_token=result.get("RefreshToken") or refresh_token,
            expires_at=expires,
            issued_at=issued,
        )
        for secret in (tokens.id_token, tokens.access_token, tokens.refresh_token):
            register_secret(secret)
        return tokens

    @property
    def sub(self) -> str:
        sub = jwt_claims(self.id_token).get("sub")
        if not isinstance(sub, str) or not sub:
            raise CredentialsError("The ID token has no user id (sub); please sign in again.")
        return sub

    def renew_due(self, now: float) -> bool:
        """True when the ID token expires within the renewal margin."""
        margin = min(TOKEN_RENEW_MARGIN_S, max(0.0, self.expires_at - self.issued_at) / 4)
        return now >= self.expires_at - margin


class TokenIssuer(Protocol):
    """Where tokens are renewed: the user pool (:class:`.cognito.UserPool`). Named by what
    it does, so this module needs no import of the one that imports it."""

    @property
    def provider_name(self) -> str:
        """The identity pool's Logins key for the issuer."""
        ...

    def refresh(self, refresh_token: str, *, now: Callable[[], float] = ...) -> Tokens:
        """New tokens from the refresh token."""
        ...


class TokenKeeper:
    """The tokens of a signed-in user, renewed before they expire.

    Thread-safe: the worker's sync and a credential refresh may ask at the same time.
    ``on_refresh_token`` is told when Cognito rotates the refresh token.
    """

    def __init__(
        self,
        pool: TokenIssuer,
        tokens: Tokens,
        *,
        clock: Callable[[], float] = time.time,
        on_refresh_token: Callable[[str], None] | None = None,
    ) -> None:
        self.pool = pool
        self._tokens = tokens
        self._clock = clock
        self._on_refresh_token = on_refresh_token
        self._lock = threading.Lock()
        self._stale = False
        self.renewals = 0

    @property
    def user_id(self) -> str:
        return self._tokens.sub

    @property
    def refresh_token(self) -> str | None:
        return self._tokens.refresh_token

    def expire(self) -> None:
        """Renew at the next use (after the server said a token expired, or a clock jump)."""
        with self._lock:
            self._stale = True

    def id_token(self) -> str:
        """A valid ID token, renewed first when it is about to expire."""
        with self._lock:
            if self._stale or self._tokens.renew_due(self._clock()):
                self._renew()
            return self._tokens.id_token

    def _renew(self) -> None:
        refresh_token = self._tokens.refresh_token
        if not refresh_token:
            raise CredentialsError("Your sign-in has expired; please sign in again.")
        tokens = self.pool.refresh(refresh_token, now=self._clock)
        if tokens.sub != self._tokens.sub:
            raise CredentialsError("Cognito renewed the sign-in for a different user; please sign in again.")
        if tokens.refresh_token and tokens.refresh_token != refresh_token and self._on_refresh_token:
            self._on_refresh_token(tokens.refresh_token)
        self._tokens = tokens
        self._stale = False
        self.renewals += 1
        log.info("Cognito tokens renewed")
