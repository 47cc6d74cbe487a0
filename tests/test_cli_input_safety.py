"""Input the CLI cannot use is refused in one line, exit 2, before anything is written.

Real processes: bytes that are not UTF-8 reach the program as the operating system
hands them over (in an argument, on standard input, in a ``--sources`` file), and the
demo server binds real ports.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

TABLE = "galileo-input"
USER = "input-user"


def galileio(
    data_dir: Path, *args: str | bytes, stdin: bytes | None = None, offline: bool = True
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "GALILEIO_TABLE": TABLE,
        "GALILEIO_USER_ID": USER,
        "GALILEIO_DATA_DIR": str(data_dir),
    }
    command: list[str | bytes] = [sys.executable, "-m", "galileio_desktop", "--json"]
    command += ["--offline"] if offline else []
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, env=env, timeout=60, check=False
    )


def one_line(stderr: bytes) -> str:
    """The one line the CLI wrote on stderr (asserted to be exactly one, and no traceback)."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text, text
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("galileio-desktop: "), text
    return lines[0]


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def new_chat(data_dir: Path) -> str:
    created = galileio(data_dir, "chats", "create", "Plans")
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout)["chatId"])


def pending(data_dir: Path) -> list[str]:
    status = galileio(data_dir, "status")
    assert status.returncode == 0, status.stderr
    return [op["kind"] for op in json.loads(status.stdout)["operations"]]


@pytest.mark.parametrize(
    "argument",
    [b"caf\xe9", b"\xff\xfe", b"ok \xc3\x28 then"],
    ids=["latin-1", "bytes", "broken-sequence"],
)
def test_an_argument_that_is_not_utf8_exits_2_before_anything_is_written(
    data_dir: Path, argument: bytes
) -> None:
    result = galileio(data_dir, "chats", "create", argument)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "argument 5" in line and "not valid UTF-8" in line
    # The bad bytes are shown escaped, never written raw to the terminal.
    assert "\\x" in line and argument not in result.stderr
    assert result.stdout == b""
    assert files_under(data_dir) == []  # not even a log folder


def test_standard_input_that_is_not_utf8_exits_2_and_queues_nothing(data_dir: Path) -> None:
    chat_id = new_chat(data_dir)
    result = galileio(data_dir, "messages", "add", chat_id, "-", stdin=b"caf\xe9 au lait\n")
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "Standard input is not valid UTF-8" in line and "byte 4" in line
    assert result.stdout == b""
    assert pending(data_dir) == ["create_chat"]
    # Valid UTF-8 on stdin still works, newlines as text mode reads them.
    added = galileio(data_dir, "messages", "add", chat_id, "-", stdin="café\r\nau lait".encode())
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["text"] == "café\nau lait"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'[{"pageContent": "caf\xe9", "metadata": {}}]', "is not valid UTF-8 text (byte 22)"),
        (b'[{"pageContent": "ok"}, {"pageContent": "\\ud800"}]', "Source 1"),
        (b'[{"pageContent": "ok", "metadata": {"\\udcff": 1}}]', "Source 0"),
    ],
    ids=["not-utf8", "lone-surrogate-in-text", "lone-surrogate-in-a-key"],
)
def test_a_sources_file_that_is_not_utf8_text_exits_2_and_queues_nothing(
    data_dir: Path, tmp_path: Path, content: bytes, words: str
) -> None:
    chat_id = new_chat(data_dir)
    sources = tmp_path / "sources.json"
    sources.write_bytes(content)
    result = galileio(
        data_dir, "messages", "add", chat_id, "An answer", "--type", "ai", "--sources", str(sources)
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert words in line and str(sources) in line
    assert pending(data_dir) == ["create_chat"]


def demo_server(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``demo-server`` that must end by itself: a hang fails the test at the timeout."""
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", "demo-server", *args],
        capture_output=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("port", ["-1", "99999999", "65536", "http"])
def test_demo_server_refuses_a_port_out_of_range_in_one_line(port: str, data_dir: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "galileio_desktop",
            "--data-dir",
            str(data_dir),
            "demo-server",
            "--port",
            port,
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "--port must be" in line and "0 and 65535" in line and port in line


def test_demo_server_on_a_busy_port_says_so_in_one_line_and_does_not_hang(data_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "galileio_desktop",
                "--data-dir",
                str(data_dir),
                "demo-server",
                "--port",
                str(port),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert f"127.0.0.1:{port}" in line and "already in use" in line


def test_argument_check_accepts_any_utf8_text() -> None:
    from galileio_desktop.cli.arguments import require_text_arguments, shown, undecodable

    fine: Sequence[str] = ["chats", "create", "Café ☕ 日本語", "\U0001f600"]
    require_text_arguments(fine)  # nothing raised
    assert undecodable("caf\udce9") and not undecodable("café")
    assert shown("caf\udce9") == "caf\\xe9"
