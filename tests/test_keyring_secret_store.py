"""Without a usable keyring, secrets live in memory for the session, never in a file."""

from __future__ import annotations

import os
from pathlib import Path

import keyring.backend
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from galileio_desktop.data.auth.secrets import (
    PASSWORD,
    REFRESH_TOKEN,
    SECRET_ACCESS_KEY,
    SecretStore,
    backend_problem,
)

# keyring registers every backend class it sees; ``viable = False`` keeps these test
# backends out of the automatic choice that the rest of the process relies on.


class EmptyChain(chainer.ChainerBackend):
    """keyring's chainer when no backend at all is available on the machine."""

    viable = False
    backends: list[keyring.backend.KeyringBackend] = []


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that is installed but fails, as a locked or crashed keyring daemon does."""

    viable = False
    priority = 5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("the collection is locked")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG folders in the test's own folder, to see what gets written."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    return home


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (fail.Keyring(), "no keyring backend is installed"),
        (EmptyChain(), "no keyring backend is available"),
        (null.Keyring(), "switched off"),
    ],
    ids=["fail", "empty-chain", "null"],
)
def test_no_usable_keyring_keeps_secrets_in_memory(
    backend: keyring.backend.KeyringBackend, reason: str, isolated_home: Path, tmp_path: Path
) -> None:
    store = SecretStore(backend)
    assert not store.usable
    assert store.warning is not None
    assert reason in store.warning
    assert "memory for this session only" in store.warning
    assert "sign in again" in store.warning

    store.set("work", REFRESH_TOKEN, "refresh-token-value-123")
    store.set("lab", SECRET_ACCESS_KEY, "secret-key-value-456")
    assert store.get("work", REFRESH_TOKEN) == "refresh-token-value-123"
    assert store.get("lab", SECRET_ACCESS_KEY) == "secret-key-value-456"
    assert store.get("work", PASSWORD) is None

    # Nothing written anywhere: no plain-text fallback file.
    assert files_under(tmp_path) == []
    # A new store (the next start of the app) has nothing: memory only.
    assert SecretStore(backend).get("work", REFRESH_TOKEN) is None

    assert store.delete_all("work") == [REFRESH_TOKEN]
    assert store.get("work", REFRESH_TOKEN) is None
    assert store.get("lab", SECRET_ACCESS_KEY) == "secret-key-value-456"


def test_failing_backend_falls_back_to_memory_with_a_warning(isolated_home: Path, tmp_path: Path) -> None:
    store = SecretStore(BrokenKeyring())
    assert store.usable  # looks fine until it is used
    store.set("work", REFRESH_TOKEN, "refresh-token-value-789")
    assert not store.usable
    assert store.warning is not None and "writing to the keyring failed" in store.warning
    assert store.get("work", REFRESH_TOKEN) == "refresh-token-value-789"
    assert store.delete("work", REFRESH_TOKEN)
    assert store.get("work", REFRESH_TOKEN) is None
    assert files_under(tmp_path) == []


def test_plain_text_keyrings_are_refused() -> None:
    """keyrings.alt's file backends write secrets to a file: never acceptable here."""

    class PlaintextKeyring(keyring.backend.KeyringBackend):
        viable = False
        priority = 0.5  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            raise AssertionError("must not be used")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("must not be used")

        def delete_password(self, service: str, username: str) -> None:
            raise AssertionError("must not be used")

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    problem = backend_problem(PlaintextKeyring())
    assert problem is not None and "plain file" in problem
    store = SecretStore(PlaintextKeyring())
    assert not store.usable
    store.set("work", REFRESH_TOKEN, "never-in-a-file")
    assert store.get("work", REFRESH_TOKEN) == "never-in-a-file"


def test_keys_and_kinds_are_checked() -> None:
    store = SecretStore(fail.Keyring())
    assert SecretStore.key("work", REFRESH_TOKEN) == "work:refresh_token"
    with pytest.raises(ValueError):
        store.set("work", "api_key", "x")
    with pytest.raises(ValueError):
        store.set("a:b", REFRESH_TOKEN, "x")
    with pytest.raises(ValueError):
        store.set("work", REFRESH_TOKEN, "")


def test_secret_service_without_a_session_bus_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no D-Bus session (a bare server), the Secret Service is reported unusable."""
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=" + os.devnull)
    store = SecretStore(SecretService.Keyring())
    assert not store.usable
    assert store.warning is not None and "SecretService" in store.warning
    store.set("work", REFRESH_TOKEN, "value-for-dead-bus")
    assert store.get("work", REFRESH_TOKEN) == "value-for-dead-bus"
