"""Links to a chat, ``galileio-desktop://open?chat=ID``, and the chat ids they and ``--chat`` name.

A link comes from anywhere (a note, a ticket, a web page the browser hands to the
desktop), so it is read as hostile text: one exact shape is accepted and anything
else is refused with a sentence saying what is wrong. Nothing in a link is ever
run, fetched or written; it only chooses which chat the window shows.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

from .data.errors import InvalidInput

SCHEME = "galileio-desktop"
#: The one action a link can ask for.
ACTION = "open"
#: Longer text is not a link of ours: refused before it is parsed.
MAX_LINK_CHARS = 1024
MAX_CHAT_ID_CHARS = 128
#: Chat ids are UUIDs in practice; these characters cover them and other tools' plain ids,
#: and none of them can change how a terminal, a status bar or a log line shows the text.
CHAT_ID = re.compile(r"[A-Za-z0-9._:-]+")
#: Characters of a refused argument shown in an error, at most.
SHOWN_CHARS = 60


def chat_link(chat_id: str) -> str:
    """The link that opens ``chat_id``."""
    return f"{SCHEME}://{ACTION}?chat={quote(validate_chat_id(chat_id), safe='')}"


def is_link(text: str) -> bool:
    """True when ``text`` starts like one of our links (it may still be refused)."""
    return text[: len(SCHEME) + 1].lower() == f"{SCHEME}:"


def chat_from_argument(text: str) -> str:
    """The chat id that ``--chat`` names: a chat id, or a link to a chat."""
    return chat_from_link(text) if is_link(text) else validate_chat_id(text)


def validate_chat_id(chat_id: str) -> str:
    if not chat_id:
        raise InvalidInput("The chat id is empty.")
    if len(chat_id) > MAX_CHAT_ID_CHARS:
        raise InvalidInput(
            f"A chat id has at most {MAX_CHAT_ID_CHARS} characters; this one has {len(chat_id)}."
        )
    if not CHAT_ID.fullmatch(chat_id):
        raise InvalidInput(
            f"Not a chat id: {_shown(chat_id)} (a chat id has only letters, digits and . _ : -)."
        )
    return chat_id


def chat_from_link(link: str) -> str:
    """The chat id of ``galileio-desktop://open?chat=ID``; anything else is :class:`InvalidInput`."""
    if len(link) > MAX_LINK_CHARS:
        raise InvalidInput(f"That link is too long to be a chat link ({len(link)} characters).")
    if not link.isprintable() or any(c.isspace() for c in link):
        raise InvalidInput(f"Not a chat link: {_shown(link)} (it holds spaces or control characters).")
    try:
        parts = urlsplit(link)
    except ValueError:
        raise InvalidInput(f"Not a chat link: {_shown(link)}.") from None
    expected = f"expected {SCHEME}://{ACTION}?chat=ID"
    if parts.scheme.lower() != SCHEME:
        raise InvalidInput(f"Not a chat link: {_shown(link)} ({expected}).")
    if parts.netloc != ACTION or parts.path not in ("", "/") or parts.fragment:
        raise InvalidInput(f"This link asks for something the app does not do: {_shown(link)} ({expected}).")
    try:
        query = parse_qs(
            parts.query, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=4
        )
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"The chat link's query cannot be read: {_shown(link)} ({expected}).") from None
    if set(query) != {"chat"} or len(query["chat"]) != 1:
        raise InvalidInput(f"A chat link names exactly one chat and nothing else ({expected}).")
    return validate_chat_id(query["chat"][0])


def _shown(text: str) -> str:
    """``text`` as an ASCII repr, cut short: safe to print anywhere."""
    cut = text[:SHOWN_CHARS]
    return ascii(cut) + ("..." if len(text) > SHOWN_CHARS else "")
