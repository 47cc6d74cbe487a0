"""Signing in to a Cognito user pool with SRP, and renewing the sign-in with its refresh token.

Galileo's users sign in to a Cognito user pool; the desktop client does the same
with the Secure Remote Password flow (``USER_SRP_AUTH``), so the password never
leaves the machine and the app client needs no plain-password flow. The proof of the
password is pycognito's (``AWSSRP.process_challenge``); the requests go through the
app's own unsigned client, so its endpoint settings, timeouts and error messages apply.
(``AWSSRP.authenticate_user`` is not used: it turns NEW_PASSWORD_REQUIRED into an
exception without the session needed to answer it.) The pool's challenges a user can
meet are handled: a new password required (a callback asks for it) and, with a clear
message, the MFA kinds we do not support yet.

The tokens it returns, and how they are kept fresh, are in :mod:`.tokens`.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from collections.abc import Callable
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pycognito.aws_srp import AWSSRP

from ... import __version__
from ..aws_errors import Service, error_code, translate
from ..aws_sessions import new_boto3_session
from ..errors import CredentialsError, InvalidInput
from .redaction import install_log_redaction, register_secret
from .tokens import Tokens

log = logging.getLogger(__name__)

NewPasswordPrompt = Callable[[], "str | None"]

_MFA_NAMES = {
    "SMS_MFA": "a code sent by text message",
    "SOFTWARE_TOKEN_MFA": "a code from an authenticator app",
    "EMAIL_OTP": "a code sent by email",
    "MFA_SETUP": "setting up multi-factor authentication",
    "SELECT_MFA_TYPE": "a choice of multi-factor authentication",
    "SMS_OTP": "a code sent by text message",
    "WEB_AUTHN": "a passkey",
    "CUSTOM_CHALLENGE": "a custom challenge",
    "DEVICE_SRP_AUTH": "a remembered-device check",
    "SELECT_CHALLENGE": "a choice of sign-in method",
}


class UnsupportedChallenge(CredentialsError):
    """The user pool asks for a sign-in step this app cannot do (MFA and the like)."""

    def __init__(self, challenge: str, detail: str | None = None) -> None:
        what = _MFA_NAMES.get(challenge, "an extra sign-in step")
        super().__init__(
            detail
            or f"This user pool asks for {what} ({challenge}), which Galileio Desktop does not support yet. "
            "Ask your administrator to turn it off for this app client, or sign in with an AWS profile."
        )
        self.challenge = challenge


# -- the user pool -----------------------------------------------------------------------


def cognito_client(
    service: str,
    region: str,
    endpoint_url: str | None = None,
    *,
    session: boto3.Session | None = None,
    quick: bool = False,
) -> Any:
    """An unsigned client for the Cognito sign-in APIs (they take no AWS credentials).

    Created with a plain ``Session.client``, so botocore's endpoint settings
    (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER``,
    ``AWS_ENDPOINT_URL_COGNITO_IDENTITY``, the config file) apply unless
    ``endpoint_url`` overrides them. ``quick``: one attempt, short timeouts (sign-out).
    """
    install_log_redaction()
    session = session or new_boto3_session(region_name=region)
    config = Config(
        signature_version=UNSIGNED,
        retries={"mode": "standard", "total_max_attempts": 1 if quick else 3},
        connect_timeout=3 if quick else 5,
        read_timeout=5 if quick else 20,
        user_agent_extra=f"galileio-desktop/{__version__}",
    )
    return session.client(service, region_name=region, endpoint_url=endpoint_url or None, config=config)


def _password_claim(srp: AWSSRP, challenge: dict[str, Any], auth_params: dict[str, Any]) -> dict[str, Any]:
    """The answer to PASSWORD_VERIFIER: pycognito's proof of the password, signed with
    Cognito's timestamp (English names whatever the locale).

    pycognito reads the clock with ``datetime.utcnow()``, which Python 3.12 deprecates;
    that warning is the library's and says nothing to a user, so exactly it is ignored.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"datetime\.datetime\.utcnow\(\) is deprecated", DeprecationWarning)
        claim: dict[str, Any] = srp.process_challenge(challenge, auth_params)
    return claim


class UserPool:
    """One user pool and app client (no client secret: a desktop app cannot keep one)."""

    def __init__(
        self,
        user_pool_id: str,
        client_id: str,
        *,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
    ) -> None:
        if "_" not in user_pool_id:
            raise InvalidInput(f"User pool id {user_pool_id!r} does not look like REGION_ID.")
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.region = user_pool_id.split("_", 1)[0]
        self.endpoint_url = endpoint_url
        self._session = session
        self.client = cognito_client("cognito-idp", self.region, endpoint_url, session=session)

    @property
    def provider_name(self) -> str:
        """The identity pool's Logins key for this user pool."""
        return f"cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    def sign_in(
        self,
        username: str,
        password: str,
        new_password: NewPasswordPrompt | None = None,
        *,
        now: Callable[[], float] = time.time,
    ) -> Tokens:
        """SRP sign-in; answers NEW_PASSWORD_REQUIRED through ``new_password``."""
        register_secret(password)
        try:
            result = self._srp(username, password)
            for _ in range(4):
                challenge = result.get("ChallengeName")
                if not challenge:
                    break
                if challenge != "NEW_PASSWORD_REQUIRED":
                    raise UnsupportedChallenge(str(challenge))
                result = self._new_password(result, username, new_password)
            auth = result.get("AuthenticationResult")
            if not auth or "IdToken" not in auth:
                raise CredentialsError("Cognito did not complete the sign-in; please try again.")
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "sign-in", Service.COGNITO) from None
        tokens = Tokens.from_result(auth, None, now())
        if not tokens.refresh_token:
            raise CredentialsError("Cognito returned no refresh token; check that the app client allows it.")
        log.info("signed in to user pool %s", self.user_pool_id)
        return tokens

    def _srp(self, username: str, password: str) -> dict[str, Any]:
        srp = AWSSRP(username, password, self.user_pool_id, self.client_id, client=self.client)
        auth_params = srp.get_auth_params()
        first = self.client.initiate_auth(
            AuthFlow="USER_SRP_AUTH", AuthParameters=auth_params, ClientId=self.client_id
        )
        if first.get("ChallengeName") != "PASSWORD_VERIFIER":
            raise UnsupportedChallenge(str(first.get("ChallengeName") or "unknown"))
        request: dict[str, Any] = {
            "ClientId": self.client_id,
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": _password_claim(srp, first["ChallengeParameters"], auth_params),
        }
        if first.get("Session"):
            request["Session"] = first["Session"]
        result: dict[str, Any] = self.client.respond_to_auth_challenge(**request)
        return result

    def _new_password(
        self, result: dict[str, Any], username: str, prompt: NewPasswordPrompt | None
    ) -> dict[str, Any]:
        params = result.get("ChallengeParameters") or {}
        try:
            required = json.loads(params.get("requiredAttributes") or "[]")
        except ValueError:
            required = []
        if required:
            names = ", ".join(str(name).removeprefix("userAttributes.") for name in required)
            raise UnsupportedChallenge(
                "NEW_PASSWORD_REQUIRED",
                f"Your first sign-in also needs these details set: {names}. Sign in once in the web app, "
                "then here.",
            )
        if prompt is None:
            raise CredentialsError(
                "A new password must be chosen for this user at first sign-in; sign in from the window or "
                "run 'galileio-desktop login' in a terminal."
            )
        new_password = prompt()
        if not new_password:
            raise CredentialsError("Sign-in cancelled: a new password is required.")
        register_secret(new_password)
        response: dict[str, Any] = self.client.respond_to_auth_challenge(
            ClientId=self.client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=result["Session"],
            ChallengeResponses={"USERNAME": params.get("USERNAME", username), "NEW_PASSWORD": new_password},
        )
        log.info("new password set for a user of pool %s", self.user_pool_id)
        return response

    def refresh(self, refresh_token: str, *, now: Callable[[], float] = time.time) -> Tokens:
        """New ID and access tokens from the refresh token (REFRESH_TOKEN_AUTH)."""
        register_secret(refresh_token)
        try:
            response = self.client.initiate_auth(
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
                ClientId=self.client_id,
            )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, "token renewal", Service.COGNITO) from None
        auth = response.get("AuthenticationResult")
        if not auth or "IdToken" not in auth:
            raise CredentialsError("Cognito did not renew the sign-in; please sign in again.")
        return Tokens.from_result(auth, refresh_token, now())

    def revoke(self, refresh_token: str) -> bool:
        """Revoke the refresh token (and the tokens issued from it); False if that failed.

        Best effort: signing out must work offline too, the local secrets go anyway.
        """
        client = cognito_client(
            "cognito-idp", self.region, self.endpoint_url, session=self._session, quick=True
        )
        try:
            client.revoke_token(Token=refresh_token, ClientId=self.client_id)
        except (ClientError, BotoCoreError) as exc:
            code = error_code(exc) or type(exc).__name__
            log.warning("could not revoke the refresh token at sign-out (%s); it expires on its own", code)
            return False
        return True
