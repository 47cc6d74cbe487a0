"""From an account to a working boto3 Session: sign in, stay signed in, sign out.

:func:`open_session` turns an :class:`Account` and its secrets into an
:class:`AccountSession`: a boto3 Session whose credentials renew themselves (Cognito
identity pool credentials, SSO profiles), the user id that keys the user's
partition, and an ID-token getter for the Galileo endpoint. :func:`login` signs in
with a password (or stores an access key's secret); :func:`logout` removes every
secret of the account. Sessions are built in the thread that uses them (the worker)
and not shared across threads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError

from ..aws_errors import profile_error
from ..aws_sessions import new_boto3_session
from ..errors import CredentialsError, GalileioError, InvalidInput
from .accounts import Account, validate_user_id
from .cognito import NewPasswordPrompt, UserPool
from .identity_pool import IdentityPool, RenewableCredentials, session_with_credentials
from .partition_guard import PartitionGuard, install_partition_guard
from .redaction import install_log_redaction, register_secret
from .secrets import REFRESH_TOKEN, SECRET_ACCESS_KEY, SecretStore
from .tokens import TokenKeeper, Tokens

log = logging.getLogger(__name__)

PasswordPrompt = Callable[[], "str | None"]


@dataclass
class AccountSession:
    """A signed-in account: a self-renewing boto3 Session and the user's id."""

    account: Account
    boto3_session: boto3.Session
    user_id: str
    keeper: TokenKeeper | None = None
    identity: IdentityPool | None = None
    credentials: RenewableCredentials | None = None

    def id_token(self) -> str | None:
        """A valid Cognito ID token (renewed when due); None unless signed in with Cognito."""
        return self.keeper.id_token() if self.keeper else None

    def renew(self) -> None:
        """Renew tokens and credentials before the next request (e.g. after ExpiredToken)."""
        if self.keeper:
            self.keeper.expire()
        if self.credentials:
            self.credentials.expire()

    @property
    def credentials_expiry(self) -> datetime | None:
        """When the current Cognito credentials expire (None for other kinds)."""
        return self.credentials.expiry if self.credentials else None

    def guard(self, client: Any) -> PartitionGuard:
        """Bind a DynamoDB client to this user's partition (see :mod:`.partition_guard`)."""
        return install_partition_guard(client, self.user_id, index=self.account.index)


def open_session(
    account: Account,
    secrets: SecretStore,
    password_prompt: PasswordPrompt | None = None,
    *,
    new_password_prompt: NewPasswordPrompt | None = None,
    clock: Callable[[], float] = time.time,
) -> AccountSession:
    """Sign in with what is stored; ask ``password_prompt`` only when that is not enough.

    Without a prompt, a missing or expired sign-in raises :class:`CredentialsError`
    naming the command that fixes it. :class:`EndpointUnreachable` means offline.
    """
    install_log_redaction()
    account.validate()
    if account.auth == "cognito":
        return _open_cognito(account, secrets, password_prompt, new_password_prompt, clock)
    if account.auth == "profile":
        return _open_profile(account)
    if account.auth == "keys":
        return _open_keys(account, secrets, password_prompt)
    if account.auth == "env":
        return AccountSession(account, new_boto3_session(region_name=account.region), _user_id(account))
    return _open_demo(account)


def login(
    account: Account,
    secrets: SecretStore,
    password: str,
    *,
    new_password_prompt: NewPasswordPrompt | None = None,
    clock: Callable[[], float] = time.time,
) -> AccountSession:
    """Sign in with ``password`` (Cognito) or store ``password`` as the secret access key (keys).

    Other kinds need no secret: their session is opened as it is.
    """
    install_log_redaction()
    account.validate()
    register_secret(password)
    if account.auth == "cognito":
        pool = _user_pool(account)
        tokens = pool.sign_in(str(account.username), password, new_password_prompt, now=clock)
        if tokens.refresh_token:
            secrets.set(account.name, REFRESH_TOKEN, tokens.refresh_token)
        return _cognito_session(account, secrets, pool, tokens, clock)
    if account.auth == "keys":
        if not password:
            raise InvalidInput("The secret access key may not be empty.")
        secrets.set(account.name, SECRET_ACCESS_KEY, password)
        return _open_keys(account, secrets, None)
    return open_session(account, secrets, clock=clock)


def logout(account: Account, secrets: SecretStore) -> list[str]:
    """Remove every secret of ``account`` (revoking the Cognito refresh token first,
    when the network allows); the kinds of secret that were removed."""
    install_log_redaction()
    if account.auth == "cognito" and account.user_pool_id and account.client_id:
        refresh_token = secrets.get(account.name, REFRESH_TOKEN)
        if refresh_token:
            try:
                _user_pool(account).revoke(refresh_token)
            except GalileioError as exc:
                log.warning("sign-out: %s", exc)
    removed = secrets.delete_all(account.name)
    log.info("signed out of account %s (%d secrets removed)", account.name, len(removed))
    return removed


# -- Cognito -----------------------------------------------------------------------------


def _user_pool(account: Account) -> UserPool:
    return UserPool(str(account.user_pool_id), str(account.client_id))


def _open_cognito(
    account: Account,
    secrets: SecretStore,
    password_prompt: PasswordPrompt | None,
    new_password_prompt: NewPasswordPrompt | None,
    clock: Callable[[], float],
) -> AccountSession:
    pool = _user_pool(account)
    refresh_token = secrets.get(account.name, REFRESH_TOKEN)
    expired = False
    if refresh_token:
        try:
            tokens = pool.refresh(refresh_token, now=clock)
        except CredentialsError:
            log.info("the stored sign-in of account %s is no longer valid", account.name)
            secrets.delete(account.name, REFRESH_TOKEN)
            expired = True
        else:
            return _cognito_session(account, secrets, pool, tokens, clock)
    if password_prompt is None:
        if expired:
            raise CredentialsError(
                f"Your sign-in to account {account.name} has expired; please sign in again "
                f"('galileio-desktop --account {account.name} login')."
            )
        raise CredentialsError(
            f"You are not signed in to account {account.name}: run 'galileio-desktop --account {account.name} login'."
        )
    password = password_prompt()
    if not password:
        raise CredentialsError("Sign-in cancelled.")
    return login(account, secrets, password, new_password_prompt=new_password_prompt, clock=clock)


def _cognito_session(
    account: Account, secrets: SecretStore, pool: UserPool, tokens: Tokens, clock: Callable[[], float]
) -> AccountSession:
    def rotated(refresh_token: str) -> None:
        secrets.set(account.name, REFRESH_TOKEN, refresh_token)

    keeper = TokenKeeper(pool, tokens, clock=clock, on_refresh_token=rotated)
    user_id = validate_user_id(keeper.user_id)
    if account.user_id and account.user_id != user_id:
        log.warning("account %s: signed in as a different user than before", account.name)
    identity = IdentityPool(str(account.identity_pool_id), keeper, clock=clock)
    credentials = identity.credentials()
    session = session_with_credentials(credentials, account.region)
    log.info("account %s signed in with Cognito", account.name)
    return AccountSession(
        account, session, user_id, keeper=keeper, identity=identity, credentials=credentials
    )


# -- profiles, keys, environment, demo ---------------------------------------------------


def _user_id(account: Account) -> str:
    user_id = account.effective_user_id
    if not user_id:
        raise InvalidInput(
            f"Account {account.name} has no user id: set it with 'account add ... --user-id ID'."
        )
    return validate_user_id(user_id)


def _open_profile(account: Account) -> AccountSession:
    profile = str(account.aws_profile)
    user_id = _user_id(account)
    try:
        session = new_boto3_session(profile_name=profile, region_name=account.region)
        credentials = session.get_credentials()
        if credentials is None:
            raise CredentialsError(f"AWS profile {profile} has no credentials.")
        # Resolve now, so an expired SSO sign-in is reported here, in words.
        credentials.get_frozen_credentials()
    except BotoCoreError as exc:
        raise profile_error(exc, account) from None
    return AccountSession(account, session, user_id)


def _open_keys(
    account: Account, secrets: SecretStore, password_prompt: PasswordPrompt | None
) -> AccountSession:
    user_id = _user_id(account)
    secret = secrets.get(account.name, SECRET_ACCESS_KEY)
    if not secret and password_prompt is not None:
        secret = password_prompt()
        if secret:
            secrets.set(account.name, SECRET_ACCESS_KEY, secret)
    if not secret:
        raise CredentialsError(
            f"The secret access key of account {account.name} is not in the keyring: "
            f"run 'galileio-desktop --account {account.name} login' to enter it."
        )
    session = new_boto3_session(
        aws_access_key_id=account.access_key_id,
        aws_secret_access_key=secret,
        region_name=account.region,
    )
    return AccountSession(account, session, user_id)


def _open_demo(account: Account) -> AccountSession:
    """The standard chain; the demo endpoint is local, so any credentials do."""
    session = new_boto3_session(region_name=account.region)
    if session.get_credentials() is None:
        session = new_boto3_session(
            aws_access_key_id="demo", aws_secret_access_key="demo", region_name=account.region
        )
    return AccountSession(account, session, _user_id(account))
