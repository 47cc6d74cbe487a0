"""A file of the app's own installation rotted on disk: botocore's model files.

Real damaged files: the files a DynamoDB client reads are copied to a folder laid out
as installed packages are (``<site>/botocore/data``), one is damaged (cut in half,
zeroed, a byte changed, a gzip stream broken, unreadable), and ``AWS_DATA_PATH`` points
at the copy, which botocore searches before its own folder: the damaged file shadows the
good one. The command line (a real process) and the window (offscreen) then say, in
words, which file is damaged, that the installation must be repaired and that the chats
are safe; nothing local is lost, and a queued write is sent, once, when the file is good
again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore
import pytest
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, WebApp

from galileio_desktop.data.aws_sessions import PiecewiseJSONFileLoader, shown_path
from galileio_desktop.data.errors import DamagedInstallation, EndpointUnreachable

pytestmark = pytest.mark.integration

BOTOCORE_DATA = Path(botocore.__file__).parent / "data"
DYNAMODB_MODEL = "dynamodb/2012-08-10/service-2.json.gz"
#: Where a write-only file makes ``open`` fail with EACCES even for root (Linux sysfs).
WRITE_ONLY_FILE = Path("/sys/bus/pci/rescan")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zeroed(path: Path) -> None:
    path.write_bytes(b"\0" * path.stat().st_size)


def _byte_changed(path: Path) -> None:
    """One byte turned into one that is not UTF-8 (a flipped high bit, as a disk does it)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 3] = 0xFF
    path.write_bytes(bytes(data))


def _gzip_broken(path: Path) -> None:
    """Bytes in the middle of the compressed stream changed: zlib or the CRC notices."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0x5A for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


def _failing_disk(path: Path) -> None:
    """Every read fails with EIO: /proc/self/mem read at offset 0 does, a real EIO."""
    path.unlink()
    path.symlink_to("/proc/self/mem")


def _unreadable(path: Path) -> None:
    """No permission to read it (EACCES)."""
    if os.geteuid() != 0:
        path.chmod(0)
        return
    try:  # root reads any file a mode allows nothing to; a write-only sysfs file it cannot
        WRITE_ONLY_FILE.open("rb").close()
    except PermissionError:
        path.unlink()
        path.symlink_to(WRITE_ONLY_FILE)
        return
    except OSError:
        pass
    pytest.skip("running as root, and no write-only file here refuses root a read")


#: (file damaged, how, what the message says of it)
DAMAGES = {
    "endpoint table cut in half": ("endpoints.json", _truncated, "is corrupt"),
    "DynamoDB model zeroed": (DYNAMODB_MODEL, _zeroed, "is corrupt"),
    "defaults with a byte changed": ("sdk-default-configuration.json", _byte_changed, "is corrupt"),
    "DynamoDB model's gzip broken": (DYNAMODB_MODEL, _gzip_broken, "is corrupt"),
    "endpoint table on a failing disk": (
        "endpoints.json",
        _failing_disk,
        "cannot be read (Input/output error)",
    ),
    "endpoint table unreadable": ("endpoints.json", _unreadable, "cannot be read (Permission denied)"),
}


class DamagedCopy:
    """A copy of one of botocore's model files under ``<site>/botocore/data``, damaged."""

    def __init__(self, site: Path, name: str) -> None:
        self.site = site
        self.data = site / "botocore" / "data"
        self.name = name
        self.path = self.data / name

    def damage(self, how: Callable[[Path], None]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BOTOCORE_DATA / self.name, self.path)
        how(self.path)

    def repair(self) -> None:
        """The file made good again (a reinstall)."""
        if self.path.is_symlink():
            self.path.unlink()
        elif self.path.exists():
            self.path.chmod(0o644)
        shutil.copyfile(BOTOCORE_DATA / self.name, self.path)


def _says_damaged_and_safe(text: str, name: str, problem: str) -> None:
    assert f"Galileio Desktop's installation is damaged: botocore/data/{name} {problem}." in text
    assert "Reinstall Galileio Desktop" in text
    assert "Your chats on this computer are safe" in text
    assert "changes not sent yet stay queued and are sent once it is repaired" in text
    assert "Traceback" not in text and "Unexpected error" not in text


# -- the loader -------------------------------------------------------------------------


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_the_loader_names_a_damaged_file_as_part_of_the_installation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    name, how, problem = DAMAGES[damage]
    copy = DamagedCopy(tmp_path / "site", name)
    copy.damage(how)
    monkeypatch.syspath_prepend(str(copy.site))
    stem = str(copy.path).removesuffix(".gz").removesuffix(".json")
    with pytest.raises(DamagedInstallation) as raised:
        PiecewiseJSONFileLoader().load_file(stem)
    assert isinstance(raised.value, EndpointUnreachable)  # offline: nothing queued is parked
    assert raised.value.exit_code == 7
    assert raised.value.file == f"botocore/data/{name}"
    _says_damaged_and_safe(raised.value.message, name, problem)
    copy.repair()
    assert PiecewiseJSONFileLoader().load_file(stem) is not None


def test_a_path_outside_the_installed_packages_is_shown_whole_with_home_as_tilde(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert shown_path(str(BOTOCORE_DATA / "endpoints.json")) == "botocore/data/endpoints.json"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert shown_path(str(tmp_path / ".aws" / "models" / "endpoints.json")) == "~/.aws/models/endpoints.json"
    assert shown_path("/nowhere/models/endpoints.json") == "/nowhere/models/endpoints.json"


# -- the command line -------------------------------------------------------------------


class Cli:
    """``galileio-desktop`` as a subprocess on one data folder, botocore's files shadowed."""

    def __init__(self, endpoint: str, data_dir: Path, site: Path) -> None:
        self.endpoint = endpoint
        self.env = {
            **os.environ,
            "GALILEIO_TABLE": TABLE,
            "GALILEIO_USER_ID": USER,
            "GALILEIO_DATA_DIR": str(data_dir),
            "AWS_DATA_PATH": str(site / "botocore" / "data"),
            # So that the message shows the copy as it shows an installed file.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
        }

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "galileio_desktop", "--endpoint-url", self.endpoint, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
        )


def _mirror_dump(data_dir: Path) -> list[str]:
    """The mirror's schema and rows, as SQL (the one account's file, read only)."""
    (path,) = (data_dir / "data" / "mirrors").glob("*.sqlite3")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def web(moto_endpoint: str) -> WebApp:
    client = dynamodb_client(moto_endpoint)
    create_galileo_table(client, TABLE)
    return WebApp(client)


@pytest.mark.parametrize(
    "damage",
    ["endpoint table cut in half", "DynamoDB model's gzip broken", "endpoint table on a failing disk"],
)
def test_the_command_line_says_what_is_damaged_keeps_everything_and_sends_it_once_repaired(
    moto_endpoint: str, web: WebApp, data_dir: Path, tmp_path: Path, damage: str
) -> None:
    name, how, problem = DAMAGES[damage]
    copy = DamagedCopy(tmp_path / "site", name)
    copy.damage(how)
    cli = Cli(moto_endpoint, data_dir, copy.site)
    created = cli("--offline", "chats", "create", "Written while damaged")
    assert created.returncode == 0, created.stderr
    chat_id = created.stdout.strip()
    before = _mirror_dump(data_dir)

    synced = cli("sync")
    assert synced.returncode == 7, synced.stderr
    _says_damaged_and_safe(synced.stderr, name, problem)
    assert synced.stderr.startswith("galileio-desktop: ")
    assert synced.stderr.rstrip().endswith("1 change(s) still pending.")
    listed = cli("chats", "list")  # online reading falls back to the local copy
    assert listed.returncode == 0, listed.stderr
    assert chat_id in listed.stdout and "Written while damaged" in listed.stdout
    assert "Showing the local copy: Galileio Desktop's installation is damaged" in listed.stderr
    assert _mirror_dump(data_dir) == before  # the failed syncs wrote nothing
    added = cli("messages", "add", chat_id, "a second line")  # a write: saved, kept queued
    assert added.returncode == 0, added.stderr
    assert "Saved locally; will be sent later (Galileio Desktop's installation is damaged" in added.stderr
    assert web.chats() == {}  # nothing was sent

    copy.repair()
    repaired = cli("sync")
    assert repaired.returncode == 0, repaired.stderr
    assert "0 pending, 0 refused" in repaired.stdout
    assert list(web.chats()) == [chat_id]
    assert [m["data"]["M"]["content"]["S"] for m in web.messages().values()] == ["a second line"]


# -- the window -------------------------------------------------------------------------


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, moto_endpoint: str) -> Iterator[Any]:
    """The window on a mirror with a chat queued, syncing with the app's own client."""
    from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
    from galileio_desktop.data.dynamo.gateway import ChatGateway
    from galileio_desktop.data.sync import ChatLibrary
    from galileio_desktop.ui.app_window import build_window

    mirror = tmp_path / "mirror.sqlite3"
    with ChatLibrary(mirror, USER, None) as library:
        library.create_chat("Queued before the damage")

    def library() -> ChatLibrary:
        def gateway() -> ChatGateway:
            return ChatGateway(make_dynamodb_client("us-east-1", moto_endpoint), TABLE, USER)

        return ChatLibrary(mirror, USER, gateway)

    shown = build_window(
        library, None, "damaged@example.com", tmp_path / "settings", sync_interval_ms=600_000
    )
    qtbot.addWidget(shown)
    yield shown
    shown.close()


def _titles(window: Any) -> list[str]:
    model = window.sidebar.model
    return [str(model.index(r, 0).data()) for r in range(model.rowCount()) if not model.is_header(r)]


@pytest.mark.gui
def test_the_window_says_what_is_damaged_stays_usable_and_sends_the_queued_write_once_repaired(
    qtbot: Any, window: Any, web: WebApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from galileio_desktop.ui.sync_status import status_bar as sb
    from galileio_desktop.ui.workers import sync_worker

    # The offline retries' schedule, shortened: the test waits for two of them.
    monkeypatch.setattr(sync_worker, "OFFLINE_RETRY_MS", (300, 600, 1_200))
    name, how, problem = DAMAGES["endpoint table cut in half"]
    copy = DamagedCopy(tmp_path / "site", name)
    copy.damage(how)
    monkeypatch.syspath_prepend(str(copy.site))
    monkeypatch.setenv("AWS_DATA_PATH", str(copy.data))
    status = window.status
    said: list[str] = []
    window.client.events.sig_sync_failed.connect(lambda message, _bug: said.append(message))
    done: list[object] = []
    window.client.events.sig_sync_done.connect(done.append)

    window.show()
    window.start()
    qtbot.waitUntil(lambda: status.state == sb.OFFLINE, timeout=20_000)
    _says_damaged_and_safe(status.currentMessage(), name, problem)  # said in the status bar
    _says_damaged_and_safe(status.state_label.toolTip(), name, problem)  # and kept in its tooltip,
    assert "when the connection is back" not in status.state_label.toolTip()  # not the network's words
    assert status.pending_label.text() == "1 change waiting to sync"
    qtbot.waitUntil(lambda: _titles(window) == ["Queued before the damage"], timeout=20_000)

    # Retried as offline is (a local read, no request), not said again each time...
    qtbot.waitUntil(lambda: len(done) >= 3 and status.state == sb.OFFLINE, timeout=20_000)
    assert len(said) == 1
    # ... but again when the user asks.
    status.clearMessage()
    status.sync_button.click()
    qtbot.waitUntil(lambda: len(said) == 2, timeout=20_000)
    _says_damaged_and_safe(status.currentMessage(), name, problem)
    assert web.chats() == {}

    copy.repair()  # the next retry finds the file good and sends what was queued
    qtbot.waitUntil(lambda: status.state == sb.ONLINE, timeout=20_000)
    qtbot.waitUntil(lambda: not status.pending_label.isVisible(), timeout=20_000)
    assert [chat["title"]["S"] for chat in web.chats().values()] == ["Queued before the damage"]
    assert _titles(window) == ["Queued before the damage"] and len(said) == 2
