"""Text for a terminal, from values anyone could have written.

A chat title or a message is data written by any client of the table. Printed as it
is, an ESC sequence recolours or clears the terminal, a carriage return or a newline in
a title forges rows of a listing, a BEL rings, and a bidi override (U+202E) reverses
what follows it. Human-readable output therefore shows every such character as an
escape (``\\x1b``, ``\\u202e``); ``--json`` and ``export`` stay exact (they are data).
"""

from __future__ import annotations

import re

#: C0 controls but tab and newline, DEL, C1 controls, and the bidi formatting characters
#: (marks, embeddings, overrides, isolates).
_UNSAFE_IN_BLOCK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: The same plus tab and newline: for values shown on one line of a listing.
_UNSAFE_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control or bidi character escaped, keeping newlines and tabs."""
    return _UNSAFE_IN_BLOCK.sub(_escape, text)


def one_line(text: str) -> str:
    """``text`` as one line of a listing: newlines and tabs escaped too."""
    return _UNSAFE_IN_LINE.sub(_escape, text)
