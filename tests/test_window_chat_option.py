"""``--chat ID --screenshot FILE`` on the demo: the picture of a given chat, or exit 5 when it is not there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui

#: Two demo chats (demo_data/chats.json): the screenshots of each must differ.
CHATS = ("65369d20-8904-5bd8-aa85-9ea1bb0b2c38", "ad20523a-d5be-5e1c-a3b1-05c81f4614cf")


def _shoot(tmp_path: Path, chat: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", "--data-dir", str(tmp_path / name), "--demo",
         "--chat", chat, "--screenshot", str(tmp_path / f"{name}.png")],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip


def test_each_chat_asked_for_is_the_one_shown(tmp_path: Path) -> None:
    first, second = (_shoot(tmp_path, chat, f"shot{n}") for n, chat in enumerate(CHATS))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    images = [QImage(str(tmp_path / f"shot{n}.png")) for n in range(2)]
    assert [(i.width(), i.height()) for i in images] == [(1280, 800)] * 2
    # The message pane (right of the sidebar) shows another chat in each.
    assert images[0].copy(300, 0, 600, 800) != images[1].copy(300, 0, 600, 800)


def test_a_chat_not_in_the_account_exits_5_and_says_so(tmp_path: Path) -> None:
    result = _shoot(tmp_path, "no-such-chat", "missing")
    assert result.returncode == 5
    assert "galileio-desktop: There is no chat no-such-chat in this account." in result.stderr
    assert (tmp_path / "missing.png").exists()  # the window as it was, for a bug report
