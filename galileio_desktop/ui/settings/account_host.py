"""What Settings may do with the account the window shows, whoever opened the window.

The account switcher provides it (:mod:`..accounts.account_settings_host`); a window
opened without one (a screenshot run) shows the account's pages as unavailable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ...data.assistants.settings import AssistantSettings


class AccountSettingsHost(Protocol):
    """The account of one window, as the Settings dialog sees it."""

    @property
    def account_name(self) -> str: ...

    @property
    def stored(self) -> bool:
        """True when the account is in the accounts file (changes last); False for the demo."""
        ...

    def assistant(self) -> AssistantSettings:
        """The account's assistant settings, without the API key."""
        ...

    def has_api_key(self) -> bool:
        """Whether an API key is in the keyring (reads the keyring: call off the GUI thread)."""
        ...

    def save_assistant(self, settings: AssistantSettings, api_key: str | None) -> AssistantSettings:
        """Store ``settings`` (validated) and the key (None: unchanged, "": removed). Writes
        the accounts file and the keyring: call off the GUI thread. Returns what was stored."""
        ...

    def adopt_assistant(self, settings: AssistantSettings) -> None:
        """In the GUI thread, after :meth:`save_assistant`: the window answers with it from now on."""
        ...

    def remove_local_data(self) -> None:
        """Close the window, delete the account's local copy, and open it again on an empty one."""
        ...
