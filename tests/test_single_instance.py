"""One window per data folder: later launches hand their chat to it and exit.

The second launch is a real process each time (its wait for the answer blocks, as it
does in the app); the first is this test's Qt application or a real app process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_helpers import offline_factory, seed_library

from galileio_desktop.data.errors import InvalidInput
from galileio_desktop.ui.app_window import build_window
from galileio_desktop.ui.open_requests import OpenRequests
from galileio_desktop.ui.single_instance import (
    InstanceServer,
    claim,
    decode_request,
    encode_request,
    server_name,
)

pytestmark = pytest.mark.gui

CLAIM = textwrap.dedent(
    """
    import sys
    from galileio_desktop.ui.single_instance import claim
    server = claim(sys.argv[1], sys.argv[2])
    print("forwarded" if server is None else "listening", flush=True)
    """
)


@pytest.fixture(autouse=True)
def _private_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short one, as /run/user/UID is: socket paths have a length limit."""
    runtime = Path(tempfile.mkdtemp(prefix="rt-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    yield runtime
    shutil.rmtree(runtime, ignore_errors=True)


def _second_launch(key: str, chat: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CLAIM, key, chat],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )


def _finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = process.communicate(timeout=30)
    return out.strip(), err


def test_requests_round_trip_and_hostile_ones_are_refused() -> None:
    assert decode_request(encode_request("abc-1")) == "abc-1"
    assert decode_request(encode_request("")) == ""
    for bad in (b'{"chat": "a b"}\n', b"[1]\n", b'{"chat": 1}\n', b"not json\n", b'{"chat": "x"}'):
        with pytest.raises(InvalidInput):
            decode_request(bad)
    with pytest.raises(InvalidInput):
        decode_request(b'{"chat": "' + b"x" * 2000 + b'"}\n')


def test_the_socket_is_in_a_private_folder_named_for_the_data_folder(_private_runtime_dir: Path) -> None:
    place = server_name("accounts:/home/ana/.config/galileio-desktop")
    assert place is not None
    name, lock = place
    assert Path(name).parent == _private_runtime_dir / "galileio-desktop"
    assert (Path(name).parent.stat().st_mode & 0o777) == 0o700
    assert lock == name + ".lock"
    other = server_name("demo:/home/ana/.config/galileio-desktop")
    assert other is not None and other[0] != name


def test_a_shared_temporary_folder_of_another_shape_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    (tmp_path / f"galileio-desktop-{os.getuid()}").mkdir(mode=0o777)
    os.chmod(tmp_path / f"galileio-desktop-{os.getuid()}", 0o777)  # open to all: someone else's trap
    assert server_name("accounts:/x") is None
    server = claim("accounts:/x", "")
    assert server is not None and not server.server.isListening()  # the app runs, unguarded


def test_a_second_launch_hands_its_chat_to_the_first(qtbot) -> None:
    first = claim("accounts:/data/one", "")
    assert isinstance(first, InstanceServer) and first.server.isListening()
    try:
        with qtbot.waitSignal(first.sig_request, timeout=20_000) as request:
            second = _second_launch("accounts:/data/one", "chat-42")
        assert request.args == ["chat-42"]
        assert _finish(second)[0] == "forwarded"
        # Another data folder is another instance.
        assert _finish(_second_launch("accounts:/data/two", ""))[0] == "listening"
    finally:
        first.close()


def test_a_socket_left_by_a_crash_is_taken_over(_private_runtime_dir: Path) -> None:
    place = server_name("accounts:/crashed")
    assert place is not None
    with socket.socket(socket.AF_UNIX) as stale:
        stale.bind(place[0])  # bound, never listened on, closed: what a killed run leaves
    assert Path(place[0]).exists()
    server = claim("accounts:/crashed", "")
    assert server is not None and server.server.isListening()
    server.close()


def test_launches_at_the_same_moment_make_one_listener() -> None:
    """The winner keeps listening until every launch has said what it did."""
    script = textwrap.dedent(
        """
        import sys
        from PySide6.QtCore import QCoreApplication, QTimer
        from galileio_desktop.ui.single_instance import claim
        app = QCoreApplication([])
        server = claim(sys.argv[1], "")
        print("forwarded" if server is None else "listening", flush=True)
        if server is not None:
            QTimer.singleShot(120_000, app.quit)  # the test ends it sooner
            app.exec()
        """
    )
    launches = [
        subprocess.Popen(
            [sys.executable, "-c", script, "accounts:/race"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for _ in range(4)
    ]
    try:
        outcomes = sorted(p.stdout.readline().strip() for p in launches if p.stdout is not None)
    finally:
        for process in launches:
            process.terminate()
            process.communicate(timeout=30)
    assert outcomes == ["forwarded", "forwarded", "forwarded", "listening"]


def test_the_window_opens_the_chat_asked_for_at_start_and_later(qtbot, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror.sqlite3"
    first, second, third = seed_library(mirror, chats=3)
    window = build_window(offline_factory(mirror), None, "analyst", tmp_path / "settings")
    qtbot.addWidget(window)
    requests = OpenRequests(second)
    requests.adopt(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.sidebar.current_chat_id == second, timeout=10_000)
    requests.request(first)
    assert window.sidebar.current_chat_id == first
    requests.request("")  # a launch with no chat: the window comes forward, the chat stays
    assert window.sidebar.current_chat_id == first
    requests.request("no-such-chat")
    assert requests.opener is not None
    qtbot.waitUntil(lambda: requests.opener.missing == "no-such-chat", timeout=10_000)
    assert window.statusBar().currentMessage() == "There is no chat no-such-chat in this account."
    assert window.sidebar.current_chat_id == first
    window.close()


def test_a_second_app_launch_brings_the_first_forward_and_exits(tmp_path: Path) -> None:
    """Real app processes: the first waits at its welcome dialog (no account yet)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "galileio_desktop", "--data-dir", str(tmp_path / "data")]
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
    )
    try:
        place = server_name(f"accounts:{tmp_path / 'data' / 'config'}")
        assert place is not None
        deadline = time.monotonic() + 30
        while not Path(place[0]).exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert Path(place[0]).exists()
        second = subprocess.run(
            [*command, "--chat", "galileio-desktop://open?chat=abc"],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        assert second.returncode == 0, second.stderr
        assert "Galileio Desktop is already open: its window was brought to the front." in second.stderr
        assert first.poll() is None  # still running
    finally:
        first.terminate()
        first.communicate(timeout=30)
