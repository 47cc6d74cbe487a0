"""Test-wide setup: a sealed environment and the fixtures every suite shares.

The environment is fixed at import time, before any test module imports boto3 or
Qt, so that nothing a developer has exported (a real AWS profile, an endpoint
override, a Galileio setting, a display) can reach a test or a real account.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TEST_TABLE = "galileo-test"

# Variables that would point a test at something outside the test: real
# credentials or profiles, endpoint overrides botocore honours on its own, and
# the application's own settings.
_LEAKY_PREFIXES = ("AWS_ENDPOINT_URL", "GALILEIO_")
_LEAKY_NAMES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_REGION",
)


def _seal_environment() -> None:
    for name in list(os.environ):
        if name in _LEAKY_NAMES or name.startswith(_LEAKY_PREFIXES):
            del os.environ[name]
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    # No developer's ~/.aws files: botocore treats a path that is not a regular
    # file as an empty config. Tests of profiles point these at their own files.
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    # Never ask the instance metadata service for credentials (slow timeouts).
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


_seal_environment()

# tests/ is a plain folder on sys.path (pytest's default "prepend" import mode):
# the server fixtures load as the plugin module "servers", and test modules import
# its helpers with `from servers import ...`.
pytest_plugins = ["servers"]


def _qt_missing_reason() -> str | None:
    """Why Qt's widgets cannot load here (system libraries missing), or None."""
    try:
        import PySide6.QtWidgets  # noqa: F401
    except ImportError as exc:
        return (
            f"Qt cannot load on this machine ({exc}); on Debian install "
            "libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 (bash .ci/run does)"
        )
    return None


#: Window tests need Qt's system libraries. Where they are missing the window tests are
#: left out, and the run's header says why; CI installs them and must run every test.
_QT_MISSING = None if os.environ.get("CI") == "true" else _qt_missing_reason()
collect_ignore_glob = ["test_ui_*.py"] if _QT_MISSING else []


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"window tests left out: {_QT_MISSING}" if _QT_MISSING else None


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty folder for ``--data-dir``: config, mirror, logs of one test."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def ddb() -> Iterator[Any]:
    """A boto3 DynamoDB client on in-process moto with the table ``galileo-test``.

    The table has the web app's shape (PK/SK, GSI1 on GSI1PK/GSI1SK with
    projection ALL, on-demand billing). Fast: no HTTP, no threads.
    """
    import boto3
    from moto import mock_aws
    from servers import create_galileo_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_galileo_table(client, TEST_TABLE)
        yield client


@pytest.fixture
def web(ddb: Any) -> Any:
    """The web app writing the table of ``ddb`` (``test_sync_support.WebApp``)."""
    from test_sync_support import WebApp

    return WebApp(ddb)


@pytest.fixture
def device(ddb: Any, tmp_path: Path) -> Iterator[Any]:
    """One device syncing with the table of ``ddb`` (``test_sync_support.Device``), its
    library closed after the test. A module whose device is another defines its own."""
    from test_sync_support import Device

    dev = Device(tmp_path / "device.sqlite3")
    yield dev
    dev.lib.close()


@pytest.fixture
def chat(tmp_path: Path) -> tuple[Path, str]:
    """(mirror, chat id): an offline mirror holding one chat of 120 questions and answers,
    links in every tenth answer. A window test module that reads another chat defines its
    own ``chat``; ``client`` and ``pane`` below then open that one."""
    from ui_helpers import seed_long_chat

    mirror = tmp_path / "mirror.sqlite3"
    return mirror, seed_long_chat(mirror, 120, link_every=10)


@pytest.fixture
def client(qtbot: Any, chat: tuple[Path, str]) -> Iterator[Any]:
    """A started WorkerClient on the ``chat`` fixture's mirror, shut down after the test."""
    from ui_helpers import running_client

    client = running_client(qtbot, chat[0])
    yield client
    client.shutdown()


@pytest.fixture
def pane(qtbot: Any, client: Any, chat: tuple[Path, str]) -> Any:
    """A MessagePane on screen showing the ``chat`` fixture's chat, titled "Long chat"."""
    from ui_helpers import shown_pane

    return shown_pane(qtbot, client, chat[1], "Long chat")


@pytest.fixture(autouse=True)
def _collect_what_is_due() -> Iterator[None]:
    """Once a window test has left the collector to the GUI thread's timer (see
    ``galileio_desktop.ui.collector``), tests without an event loop still get their
    cycles collected: whatever generation is due, after each test."""
    yield
    import gc

    if not gc.isenabled():
        from galileio_desktop.ui.collector import GuiThreadCollector

        GuiThreadCollector.collect_due()
