"""Secrets through a real Secret Service (GNOME Keyring on a private D-Bus session).

Run under ``bash .ci/with-secret-service python -m pytest tests/test_keyring_secret_service.py``,
which starts the bus and an unlocked keyring in a throw-away folder. Without a
usable Secret Service these tests skip, saying why; under CI (``CI=true``) they fail
instead, so CI can never pass without having exercised the real keyring.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import SecretService
from test_auth_cognito import Deployment
from test_auth_no_secrets_on_disk import (
    alice_deployment,  # noqa: F401 - fixture
    app_log_text,
    assert_nothing_leaked,
    assert_private,
    captured_logs,  # noqa: F401 - fixture
    run_full_session,
)

from galileio_desktop.data.auth.secrets import (
    REFRESH_TOKEN,
    SECRET_ACCESS_KEY,
    SERVICE,
    SecretStore,
)


def secret_service_problem() -> str | None:
    """Why no usable Secret Service is reachable, or None when there is one."""
    try:
        import secretstorage
    except ImportError:
        return "the secretstorage package is not installed"
    try:
        connection = secretstorage.dbus_init()
    except Exception as exc:
        return f"no D-Bus session bus ({type(exc).__name__}: {exc})"
    try:
        if not secretstorage.check_service_availability(connection):
            return "no Secret Service answers on the session bus"
        if secretstorage.get_default_collection(connection).is_locked():
            return "the default keyring collection is locked"
    except Exception as exc:
        return f"the Secret Service cannot be used ({type(exc).__name__}: {exc})"
    finally:
        connection.close()
    return None


@pytest.fixture
def secret_service() -> Iterator[Any]:
    """A D-Bus connection to an unlocked Secret Service; skip (fail in CI) without one."""
    problem = secret_service_problem()
    if problem is not None:
        message = f"needs an unlocked Secret Service: {problem}. Run under .ci/with-secret-service."
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        yield connection
    finally:
        connection.close()


def stored_items(connection: Any) -> dict[str, str]:
    """Our items in the Secret Service, read directly (not through keyring)."""
    import secretstorage

    items = secretstorage.search_items(connection, {"service": SERVICE})
    return {item.get_attributes()["username"]: item.get_secret().decode() for item in items}


@pytest.fixture
def store(secret_service: Any) -> Iterator[SecretStore]:
    store = SecretStore(SecretService.Keyring())
    yield store
    for name in ("work", "lab", "other"):
        store.delete_all(name)


def test_secrets_live_in_the_secret_service(secret_service: Any, store: SecretStore) -> None:
    assert store.usable, store.warning
    assert store.warning is None
    assert store.backend_name.endswith("SecretService.Keyring")

    store.set("work", REFRESH_TOKEN, "refresh-token-in-the-keyring")
    store.set("lab", SECRET_ACCESS_KEY, "secret-key-in-the-keyring")
    assert stored_items(secret_service) == {
        "work:refresh_token": "refresh-token-in-the-keyring",
        "lab:secret_access_key": "secret-key-in-the-keyring",
    }
    # The next start of the app finds them.
    assert SecretStore(SecretService.Keyring()).get("work", REFRESH_TOKEN) == "refresh-token-in-the-keyring"

    store.set("work", REFRESH_TOKEN, "rotated-refresh-token")
    assert store.get("work", REFRESH_TOKEN) == "rotated-refresh-token"

    assert store.delete_all("work") == [REFRESH_TOKEN]
    assert store.delete_all("work") == []
    assert stored_items(secret_service) == {"lab:secret_access_key": "secret-key-in-the-keyring"}


def test_default_keyring_is_the_secret_service(secret_service: Any) -> None:
    """What the app gets without choosing a backend: the Secret Service, usable."""
    store = SecretStore()
    assert store.usable, store.warning
    store.set("other", REFRESH_TOKEN, "via-the-default-backend")
    try:
        assert stored_items(secret_service)["other:refresh_token"] == "via-the-default-backend"
    finally:
        store.delete_all("other")


def test_keyring_files_hold_no_secret_in_clear(secret_service: Any, store: SecretStore) -> None:
    folder = os.environ.get("SECRET_SERVICE_KEYRING_DIR")
    if not folder:
        message = "the keyring folder is only known under .ci/with-secret-service"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    secret = "plain-text-would-show-this-refresh-token"
    store.set("work", REFRESH_TOKEN, secret)
    files = [p for p in Path(folder).rglob("*") if p.is_file()]
    assert files, "the keyring wrote no file"
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_full_session_with_the_real_keyring(
    secret_service: Any,
    alice_deployment: Deployment,  # noqa: F811 - fixture imported above
    data_dir: Path,
    captured_logs: pytest.LogCaptureFixture,  # noqa: F811 - fixture imported above
) -> None:
    store = SecretStore()
    assert store.usable, store.warning
    in_play = run_full_session(data_dir, store, alice_deployment)
    assert not [name for name in stored_items(secret_service) if name.startswith(("work:", "lab:"))]
    assert_nothing_leaked(data_dir, in_play, app_log_text(captured_logs))
    assert_private(data_dir)
