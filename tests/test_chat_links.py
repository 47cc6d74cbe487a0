"""Chat links and ``--chat``: one exact shape is accepted, anything else is refused in words."""

from __future__ import annotations

import subprocess
import sys

import pytest

from galileio_desktop.chat_links import MAX_CHAT_ID_CHARS, chat_from_argument, chat_from_link, chat_link
from galileio_desktop.cli.main import build_parser
from galileio_desktop.data.errors import InvalidInput

CHAT = "65369d20-8904-5bd8-aa85-9ea1bb0b2c38"


def test_a_link_names_its_chat_and_round_trips() -> None:
    assert chat_from_link(f"galileio-desktop://open?chat={CHAT}") == CHAT
    assert chat_from_link(f"GALILEIO-DESKTOP://open/?chat={CHAT}") == CHAT
    assert chat_from_link(chat_link("a.b:c_d-1")) == "a.b:c_d-1"
    assert chat_link(CHAT) == f"galileio-desktop://open?chat={CHAT}"


def test_chat_argument_takes_an_id_or_a_link() -> None:
    assert chat_from_argument(CHAT) == CHAT
    assert chat_from_argument(f"galileio-desktop://open?chat={CHAT}") == CHAT


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("https://open?chat=x", "Not a chat link"),
        ("galileio-desktop://delete?chat=x", "does not do"),
        ("galileio-desktop://open/../../etc?chat=x", "does not do"),
        ("galileio-desktop://open?chat=x#frag", "does not do"),
        ("galileio-desktop://user@open?chat=x", "does not do"),
        ("galileio-desktop://open?chat=x&chat=y", "exactly one chat"),
        ("galileio-desktop://open?chat=x&run=rm", "exactly one chat"),
        ("galileio-desktop://open", "exactly one chat"),
        ("galileio-desktop://open?chat=", "empty"),
        ("galileio-desktop://open?chat=%2e%2e%2f", "Not a chat id"),
        ("galileio-desktop://open?chat=%1b%5b31m", "Not a chat id"),
        ("galileio-desktop://open?chat=%e2%80%aeevil", "Not a chat id"),
        ("galileio-desktop://open?chat=%ff", "cannot be read"),
        ("galileio-desktop://open?chat=a b", "spaces or control"),
        ("galileio-desktop://open?chat=\x1b[2J", "spaces or control"),
        ("galileio-desktop://open?" + "a=1&" * 10 + "chat=x", "cannot be read"),
        ("galileio-desktop://open?chat=" + "x" * (MAX_CHAT_ID_CHARS + 1), "at most"),
        ("galileio-desktop://open?chat=" + "x" * 5000, "too long"),
    ],
)
def test_hostile_links_are_refused_in_words(link: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        chat_from_link(link)
    message = caught.value.message
    assert words in message
    assert message.isascii() and message.isprintable() and len(message) < 200


def test_cli_takes_chat_and_a_bare_chat_option() -> None:
    parser = build_parser()
    assert parser.parse_args(["--chat", f"galileio-desktop://open?chat={CHAT}"]).chat == CHAT
    assert parser.parse_args(["--chat"]).chat == ""  # the desktop entry's "--chat %u" without a link
    assert parser.parse_args([]).chat is None


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_a_bad_link_exits_2_with_one_clear_line_and_opens_nothing() -> None:
    result = _run("--chat", "galileio-desktop://open?chat=%1b]0;pwned%07")
    assert result.returncode == 2
    assert "argument --chat: Not a chat id: '\\x1b]0;pwned\\x07'" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_chat_with_a_command_is_a_usage_error() -> None:
    result = _run("--offline", "--chat", CHAT, "chats", "list")
    assert result.returncode == 2
    assert "--chat opens a chat in the window" in result.stderr
