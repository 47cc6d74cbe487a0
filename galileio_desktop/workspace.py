"""The account in use and everything built from it: session, gateway, mirror, assistant.

The CLI and the window both start here. Nothing in this module touches the network
until a factory is called, and the factories are called on the thread that will use
what they make (the window's worker thread), so boto3 sessions and clients never
cross threads.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data.auth.accounts import API, Account, AccountStore
from .data.errors import CredentialsError, InvalidInput
from .data.mirror.database import mirror_path_for
from .data.paths import AppPaths

if TYPE_CHECKING:
    from .data.auth.secrets import SecretStore
    from .data.auth.sessions import AccountSession

log = logging.getLogger(__name__)

PasswordPrompt = Callable[[], "str | None"]
#: Told (in the thread that met it) when signing in or renewing the sign-in failed.
CredentialsCallback = Callable[[CredentialsError], None]


@dataclass
class Workspace:
    """One account, ready to open its library and its assistant."""

    account: Account
    paths: AppPaths
    offline: bool = False
    #: Assistant settings for this run only (the CLI's ``ask --backend ...``).
    assistant_override: dict[str, Any] | None = None
    password_prompt: PasswordPrompt | None = None
    #: Called when the account's sign-in is missing or can no longer be renewed (the
    #: window asks to sign in again); called in the worker thread that found out.
    on_credentials_error: CredentialsCallback | None = None
    _secrets: SecretStore | None = field(default=None, repr=False)
    _session: AccountSession | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def secrets(self) -> SecretStore:
        """The keyring, opened only when a secret is needed (it may warn that none is usable)."""
        if self._secrets is None:
            from .data.auth.secrets import SecretStore

            self._secrets = SecretStore()
        return self._secrets

    @secrets.setter
    def secrets(self, store: SecretStore) -> None:
        """Share one store between workspaces (secrets kept in memory must outlive a switch)."""
        self._secrets = store

    @property
    def label(self) -> str:
        return self.account.name

    @property
    def user_id(self) -> str:
        user_id = self.account.effective_user_id
        if not user_id:
            raise CredentialsError(
                f"Account {self.account.name!r} has not signed in yet: run "
                f"'galileio-desktop --account {self.account.name} login'."
            )
        return user_id

    @property
    def mirror_path(self) -> Any:
        if self.uses_api:  # one mirror per deployment API, beside the table's
            return mirror_path_for(
                self.paths.data_dir,
                self.user_id,
                "",
                self.account.api_url,
                region=self.account.region,
            )
        return mirror_path_for(
            self.paths.data_dir,
            self.user_id,
            self.account.table,
            self.account.endpoint_url,
            region=self.account.region,
        )

    # -- factories, called on the thread that uses what they make ---------------------

    def session(self) -> AccountSession:
        from .data.auth.sessions import open_session

        with self._lock:
            if self._session is None:
                try:
                    self._session = open_session(self.account, self.secrets, self.password_prompt)
                except CredentialsError as exc:
                    self._report(exc)
                    raise
            return self._session

    def use_session(self, session: AccountSession) -> None:
        """Adopt a session signed in elsewhere (the window's sign-in runs on its own thread)."""
        if session.account.name != self.account.name:
            raise ValueError("the session belongs to another account")
        with self._lock:
            self._session = session

    def needs_sign_in(self) -> bool:
        """True when a password or secret key must be typed before this account can open.

        Cognito needs the user id (it names the mirror) and a refresh token in the
        keyring; access keys need their secret. Reads the keyring, never the network.
        """
        from .data.auth.secrets import REFRESH_TOKEN, SECRET_ACCESS_KEY

        account = self.account
        if self._session is not None:
            return False
        if self.offline and account.effective_user_id:
            return False
        if account.auth == "cognito":
            return not account.user_id or not self.secrets.has(account.name, REFRESH_TOKEN)
        if account.auth == "keys":
            return not self.secrets.has(account.name, SECRET_ACCESS_KEY)
        return False

    def delete_mirror(self) -> bool:
        """Delete this account's local copy (with SQLite's side files); True if there was one.

        The library must be closed first. Used at sign-out, when the user asks for it.
        """
        if not self.account.effective_user_id:
            return False
        path = Path(self.mirror_path)
        found = path.exists()
        for file in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
            file.unlink(missing_ok=True)
        if found:
            log.info("local copy of account %s deleted", self.account.name)
        return found

    def _report(self, exc: CredentialsError) -> None:
        if self.on_credentials_error is not None:
            try:
                self.on_credentials_error(exc)
            except Exception:  # noqa: BLE001 - a listener must not hide the sign-in error
                log.exception("reporting a sign-in failure failed")

    def _check_credentials(self, credentials: Any, **_: Any) -> None:
        """botocore ``before-parameter-build``: renew the credentials now if they are due,
        so that a failed renewal (a revoked sign-in, an expired SSO session) is reported
        before the request fails with it. The error itself goes on unchanged."""
        try:
            credentials.get_frozen_credentials()
        except Exception as exc:
            from .data.aws_errors import credentials_error

            error = credentials_error(exc, self.account)
            if isinstance(error, CredentialsError):
                self._report(error)
            raise

    @property
    def uses_api(self) -> bool:
        """True when the chats are reached through the deployment's REST API."""
        return self.account.transport == API

    def make_gateway(self, max_workers: int | None = None) -> Any:
        """A gateway on a new client bound to the user's partition (or on the deployment's
        API, for an account with that transport); ``max_workers``: its pool's size (None:
        the gateway's default)."""
        from .data.dynamo.dynamo_client import make_dynamodb_client
        from .data.dynamo.gateway import DEFAULT_NETWORK_THREADS, ChatGateway

        session = self.session()
        if self.uses_api:
            from .data.api.gateway import ApiGateway

            return ApiGateway(
                self.account.api_url or "",
                self.account.region,
                session.boto3_session,
                session.user_id,
                session.id_token,
                max_workers=max_workers or DEFAULT_NETWORK_THREADS,
            )
        client = make_dynamodb_client(self.account.region, self.account.endpoint_url, session.boto3_session)
        session.guard(client)
        credentials = session.boto3_session.get_credentials()
        if credentials is not None:
            client.meta.events.register(
                "before-parameter-build.dynamodb", functools.partial(self._check_credentials, credentials)
            )
        return ChatGateway(
            client,
            self.account.table,
            session.user_id,
            self.account.index,
            max_workers=max_workers or DEFAULT_NETWORK_THREADS,
        )

    def make_library(self, network_threads: int | None = None) -> Any:
        """The account's library; ``network_threads``: see :meth:`make_gateway`."""
        from .data.sync.library import ChatLibrary

        factory = None if self.offline else functools.partial(self.make_gateway, network_threads)
        return ChatLibrary(self.mirror_path, self.user_id, factory)

    def assistant_settings(self) -> Any:
        from .data.assistants.settings import AssistantSettings

        data = dict(self.account.assistant or {})
        if self.assistant_override:
            if self.assistant_override.get("backend") not in (None, data.get("backend")):
                data = {}
            data.update({k: v for k, v in self.assistant_override.items() if v is not None})
        settings = AssistantSettings.from_dict(data)
        if not settings.region:
            settings = replace(settings, region=self.account.region)
        key = (
            self.secrets.get(self.account.name, "assistant_api_key") if settings.backend == "openai" else None
        )
        if key:
            settings = replace(settings, api_key=key)
        return settings

    def make_assistant(self) -> Any:
        from .data.assistants.factory import make_assistant
        from .data.assistants.settings import GALILEO, LOCAL_DOCS

        settings = self.assistant_settings()
        chosen = (self.assistant_override or {}).get("backend") or (self.account.assistant or {}).get(
            "backend"
        )
        if self.uses_api and (settings.backend == GALILEO or not chosen) and not settings.url:
            # The deployment's own ask route: the server stores question and answer once.
            url = self.account.api_url
            settings = replace(
                settings,
                backend=GALILEO,
                url=url,
                options={**settings.options, "signing_service": "execute-api"},
            )
        if settings.backend == LOCAL_DOCS:
            index = self.paths.data_dir / "docs-index" / "index.sqlite3"
            return make_assistant(settings, index_path=index)
        if settings.backend == GALILEO:
            session = self.session()
            return make_assistant(settings, session.boto3_session, session.id_token, user_id=session.user_id)
        return make_assistant(settings, self.session().boto3_session)

    @property
    def history_limit(self) -> int:
        return int(self.account.history_limit or 10)


def env_account(
    table: str, user_id: str, region: str | None, endpoint_url: str | None, index: str | None
) -> Account:
    """An account made of flags and environment variables (the standard AWS chain)."""
    return Account(
        name="default",
        auth="env",
        region=region or "us-east-1",
        table=table,
        index=index or "GSI1",
        endpoint_url=endpoint_url,
        user_id=user_id,
        assistant={"backend": "local-docs", "docs_dir": os.environ.get("GALILEIO_DOCS_DIR", "")}
        if os.environ.get("GALILEIO_DOCS_DIR")
        else {},
    )


def resolve_account(
    paths: AppPaths,
    *,
    account_name: str | None,
    table: str | None,
    user_id: str | None,
    region: str | None,
    endpoint_url: str | None,
    index: str | None,
) -> Account:
    """``--account`` (or the current account) with flag overrides, else flags alone."""
    store = AccountStore(paths.config_dir)
    if account_name or (not (table and user_id) and store.current() is not None):
        account = store.resolve(account_name)
        overrides = {
            "table": table,
            "region": region,
            "endpoint_url": endpoint_url,
            "index": index,
        }
        account = replace(account, **{k: v for k, v in overrides.items() if v})
        if user_id and account.auth != "cognito":
            account = replace(account, user_id=user_id)
        return account
    if not table:
        raise InvalidInput(
            "No account and no table: add an account ('galileio-desktop account add ...'), "
            "or pass --table NAME (env GALILEIO_TABLE) and --user-id ID (env GALILEIO_USER_ID), "
            "or try the demo with --demo."
        )
    if not user_id:
        raise InvalidInput("No user id given: pass --user-id ID or set GALILEIO_USER_ID.")
    return env_account(table, user_id, region, endpoint_url, index)
