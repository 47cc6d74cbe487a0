"""AWS credentials from a Cognito identity pool that renew themselves.

The signed-in user's ID token is exchanged for temporary AWS credentials (GetId,
then GetCredentialsForIdentity with the Logins map). They last about an hour; a long
sync must not fail halfway, so they are wrapped in botocore's
``RefreshableCredentials``: every request checks the expiry and, shortly before it,
fetches new credentials (renewing the ID token first when it is due). When renewal
is refused the request fails with :class:`CredentialsError` asking to sign in
again; nothing queued locally is touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.credentials import CredentialProvider, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError

from ..aws_errors import Service, error_code, translate
from ..aws_sessions import new_botocore_session
from ..errors import CredentialsError, InvalidInput
from .cognito import cognito_client
from .redaction import register_secret
from .tokens import TokenKeeper

log = logging.getLogger(__name__)

#: botocore's own refresh windows (seconds before expiry), used for credentials that
#: last long enough; shorter-lived ones get a proportional window instead.
ADVISORY_REFRESH_S = 15 * 60
MANDATORY_REFRESH_S = 10 * 60


class RenewableCredentials(RefreshableCredentials):  # type: ignore[misc]
    """``RefreshableCredentials`` that can also be told to renew at the next use.

    Renewal windows scale down for short-lived credentials, so they are not fetched
    again on every request.
    """

    METHOD = "galileio-cognito"

    def __init__(
        self,
        metadata: dict[str, Any],
        fetch: Callable[[], dict[str, Any]],
        *,
        time_fetcher: Callable[[], datetime],
    ) -> None:
        self._fetch = fetch
        self._force = False
        self.expiry = datetime.fromisoformat(metadata["expiry_time"])
        super().__init__(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=self.expiry,
            refresh_using=self._renew,
            method=self.METHOD,
            time_fetcher=time_fetcher,
        )
        lifetime = (self.expiry - time_fetcher()).total_seconds()
        self._advisory_refresh_timeout = min(ADVISORY_REFRESH_S, max(1.0, lifetime / 2))
        self._mandatory_refresh_timeout = min(MANDATORY_REFRESH_S, max(1.0, lifetime / 4))
        #: How many times the credentials were renewed (for diagnostics).
        self.renewals = 0

    def expire(self) -> None:
        """Fetch new credentials before the next request."""
        self._force = True

    def refresh_needed(self, refresh_in: float | None = None) -> bool:
        if self._force:
            return True
        return bool(super().refresh_needed(refresh_in))

    def _renew(self) -> dict[str, Any]:
        metadata = self._fetch()
        self.expiry = datetime.fromisoformat(metadata["expiry_time"])
        self._force = False
        self.renewals += 1
        return metadata


class IdentityPool:
    """One identity pool, reached with the user pool's ID token."""

    def __init__(
        self,
        identity_pool_id: str,
        keeper: TokenKeeper,
        *,
        endpoint_url: str | None = None,
        session: boto3.Session | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ":" not in identity_pool_id:
            raise InvalidInput(f"Identity pool id {identity_pool_id!r} does not look like REGION:UUID.")
        self.identity_pool_id = identity_pool_id
        self.region = identity_pool_id.split(":", 1)[0]
        self.keeper = keeper
        self._clock = clock
        self.client = cognito_client("cognito-identity", self.region, endpoint_url, session=session)
        self.identity_id: str | None = None

    def _logins(self) -> dict[str, str]:
        return {self.keeper.pool.provider_name: self.keeper.id_token()}

    def fetch(self) -> dict[str, Any]:
        """Credentials metadata in the form ``RefreshableCredentials`` takes."""
        try:
            return self._fetch()
        except ClientError as exc:
            code = error_code(exc)
            if code not in ("NotAuthorizedException", "ResourceNotFoundException"):
                raise translate(exc, "credential renewal", Service.COGNITO) from None
            # The ID token or the identity may have gone stale: renew both once.
            log.info("identity pool refused the credentials request (%s); renewing the sign-in", code)
            self.keeper.expire()
            self.identity_id = None
            try:
                return self._fetch()
            except ClientError as again:
                error = translate(again, "credential renewal", Service.COGNITO)
                if isinstance(error, CredentialsError):
                    raise error from None
                raise CredentialsError(
                    f"The identity pool refused new credentials ({error}); please sign in again."
                ) from None
            except BotoCoreError as again:
                raise translate(again, "credential renewal", Service.COGNITO) from None
        except BotoCoreError as exc:
            raise translate(exc, "credential renewal", Service.COGNITO) from None

    def _fetch(self) -> dict[str, Any]:
        logins = self._logins()
        if self.identity_id is None:
            self.identity_id = str(
                self.client.get_id(IdentityPoolId=self.identity_pool_id, Logins=logins)["IdentityId"]
            )
        response = self.client.get_credentials_for_identity(IdentityId=self.identity_id, Logins=logins)
        creds = response["Credentials"]
        register_secret(creds["SecretKey"])
        register_secret(creds["SessionToken"])
        expiration = creds["Expiration"]
        if not isinstance(expiration, datetime):
            expiration = datetime.fromtimestamp(float(expiration), tz=timezone.utc)
        log.info("identity pool credentials obtained, valid until %s", expiration.isoformat())
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiration.isoformat(),
        }

    def credentials(self) -> RenewableCredentials:
        """Credentials that renew themselves before they expire."""
        return RenewableCredentials(self.fetch(), self.fetch, time_fetcher=self._now)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), tz=timezone.utc)


class _FixedProvider(CredentialProvider):  # type: ignore[misc]
    """Hands botocore's credential resolver the credentials we already have."""

    METHOD = "galileio-cognito"
    CANONICAL_NAME = "custom-galileio-cognito"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def session_with_credentials(credentials: RefreshableCredentials, region: str) -> boto3.Session:
    """A boto3 Session whose clients all sign with ``credentials``.

    The credentials go first in botocore's resolver chain (a public extension point),
    so nothing in the environment can take their place.
    """
    core = new_botocore_session()
    resolver = core.get_component("credential_provider")
    resolver.insert_before("env", _FixedProvider(credentials))
    return boto3.Session(botocore_session=core, region_name=region)
