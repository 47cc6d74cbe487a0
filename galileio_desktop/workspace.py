"""The account in use and everything built from it: session, gateway, mirror, assistant.

The CLI and the window both start here. Nothing in this module touches the network
until a factory is called, and the factories are called on the thread that will use
what they make (the window's worker thread), so boto3 sessions and clients never
cross threads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .data.auth.accounts import Account, AccountStore
from .data.auth.secrets import SecretStore
from .data.auth.sessions import AccountSession, open_session
from .data.errors import CredentialsError, InvalidInput
from .data.mirror.database import mirror_path_for
from .data.paths import AppPaths

log = logging.getLogger(__name__)

PasswordPrompt = Callable[[], "str | None"]


@dataclass
class Workspace:
    """One account, ready to open its library and its assistant."""

    account: Account
    paths: AppPaths
    offline: bool = False
    #: Assistant settings for this run only (the CLI's ``ask --backend ...``).
    assistant_override: dict[str, Any] | None = None
    password_prompt: PasswordPrompt | None = None
    _secrets: SecretStore | None = field(default=None, repr=False)
    _session: AccountSession | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def secrets(self) -> SecretStore:
        """The keyring, opened only when a secret is needed (it may warn that none is usable)."""
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

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
        return mirror_path_for(
            self.paths.data_dir,
            self.user_id,
            self.account.table,
            self.account.endpoint_url,
            region=self.account.region,
        )

    # -- factories, called on the thread that uses what they make ---------------------

    def session(self) -> AccountSession:
        with self._lock:
            if self._session is None:
                self._session = open_session(self.account, self.secrets, self.password_prompt)
            return self._session

    def make_gateway(self) -> Any:
        """A gateway on a new client bound to the user's partition."""
        from .data.dynamo_client import make_dynamodb_client
        from .data.gateway import ChatGateway

        session = self.session()
        client = make_dynamodb_client(self.account.region, self.account.endpoint_url, session.boto3_session)
        session.guard(client)
        return ChatGateway(client, self.account.table, session.user_id, self.account.index)

    def make_library(self) -> Any:
        from .data.sync.library import ChatLibrary

        factory = None if self.offline else self.make_gateway
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
