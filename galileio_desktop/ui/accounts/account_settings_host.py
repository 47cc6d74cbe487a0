"""The account switcher's side of Settings: the shown account's assistant and local copy.

Assistant settings go to the accounts file (stored accounts; the demo keeps them for
this run) and an API key to the keyring, never to a file. Removing the local copy
closes the window first (its threads stop, the mirror is closed), deletes the file,
and opens the account again on an empty copy that fills from the server.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from ...data.assistants.settings import OPENAI, AssistantSettings
from ...data.auth.secrets import ASSISTANT_API_KEY as API_KEY
from ...data.errors import GalileioError

if TYPE_CHECKING:
    from ...workspace import Workspace
    from .account_switcher import AccountSwitcher

log = logging.getLogger(__name__)


class AccountSettingsHost:
    """See the module docstring; one per window, for that window's workspace."""

    def __init__(self, switcher: AccountSwitcher, workspace: Workspace) -> None:
        self._switcher = switcher
        self._workspace = workspace

    @property
    def account_name(self) -> str:
        return self._workspace.account.name

    @property
    def stored(self) -> bool:
        try:
            return any(account.name == self.account_name for account in self._switcher.store.list())
        except GalileioError:
            return False

    def assistant(self) -> AssistantSettings:
        account = self._workspace.account
        return AssistantSettings.from_dict(account.assistant or {}).with_overrides(
            history_limit=account.history_limit
        )

    def has_api_key(self) -> bool:
        return self._workspace.secrets.has(self.account_name, API_KEY)

    def save_assistant(self, settings: AssistantSettings, api_key: str | None) -> AssistantSettings:
        settings = replace(settings, api_key=None).validate()
        account = replace(
            self._workspace.account, assistant=settings.to_dict(), history_limit=settings.history_limit
        ).validate()
        if self.stored:
            self._switcher.store.update(account)
        secrets = self._workspace.secrets
        if api_key and settings.backend == OPENAI:
            secrets.set(account.name, API_KEY, api_key)
        elif api_key == "" and secrets.has(account.name, API_KEY):
            secrets.delete(account.name, API_KEY)
        log.info("account %s: assistant set to %s", account.name, settings.backend)
        return settings

    def adopt_assistant(self, settings: AssistantSettings) -> None:
        workspace = self._workspace
        workspace.account = replace(
            workspace.account, assistant=settings.to_dict(), history_limit=settings.history_limit
        )
        window = self._switcher.window
        if window is not None and self._switcher.workspace is workspace:
            window.client.history_limit = settings.history_limit
            window.client.reload_assistant()

    def remove_local_data(self) -> None:
        self._switcher.remove_local_data(self._workspace)
