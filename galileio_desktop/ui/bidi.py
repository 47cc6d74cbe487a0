"""Untrusted text shown beside other text: kept to one line and isolated for bidi.

Titles, messages and sources come from other writers. One of them can hold Unicode
direction controls (U+202E RIGHT-TO-LEFT OVERRIDE, embeddings, isolates) or
right-to-left letters; put next to a date, a count or our own words in one string, an
unterminated override reverses whatever follows it ("Deleted “title”" reading
backwards, a date shown mirrored). :func:`isolate` closes what the text opened, drops
closers that would close more than the text opened, and wraps it in FIRST STRONG
ISOLATE ... POP DIRECTIONAL ISOLATE (U+2068 ... U+2069, Unicode's bidi algorithm,
rule X5c): inside, the text keeps its own direction; outside, it counts as one
neutral character, so nothing leaks in either direction.

:func:`one_line` makes text fit a single line: line breaks and tabs become spaces,
other control characters (an ANSI escape's ESC) become visible symbols, and very long
text is cut with an ellipsis. :func:`inline` does both, for a label, tooltip or
accessible text that joins untrusted text with ours.

Pure Python (no Qt), so it is cheap and testable on its own.
"""

from __future__ import annotations

import re

LRE = "\u202a"
RLE = "\u202b"
PDF = "\u202c"
LRO = "\u202d"
RLO = "\u202e"
LRI = "\u2066"
RLI = "\u2067"
FSI = "\u2068"
PDI = "\u2069"

_EMBEDDINGS = frozenset((LRE, RLE, LRO, RLO))
_ISOLATES = frozenset((LRI, RLI, FSI))
_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: Paragraph separators of the bidi algorithm (class B) and line separators: each ends
#: every embedding and isolate, so inline text must not hold one.
_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
#: Control characters other than the ones :data:`_BREAKS` turns into spaces.
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
ELLIPSIS = "…"
#: The most characters :func:`inline` keeps by default: more than any line shows.
INLINE_LIMIT = 300


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode's control pictures: ESC is shown as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls have no pictures


def one_line(text: str, limit: int | None = None) -> str:
    """``text`` on one line: breaks and tabs as spaces, other controls as visible symbols,
    at most ``limit`` characters (the last one an ellipsis when cut)."""
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + ELLIPSIS
    text = _BREAKS.sub(" ", text.replace("\t", " "))
    return _OTHER_CONTROLS.sub(_visible, text)


def balanced(text: str) -> str:
    """``text`` with every embedding, override and isolate it opens closed at its end, and
    the closers that match nothing it opened removed (one would close an enclosing isolate).

    Follows the bidi algorithm's matching: a PDF closes the latest embedding or override
    inside the current isolate; a PDI closes the latest isolate and everything opened
    inside it.
    """
    if _CONTROLS.search(text) is None:
        return text
    out: list[str] = []
    stack: list[str] = []  # the closer each open control needs, innermost last
    for char in text:
        if char in _EMBEDDINGS:
            stack.append(PDF)
        elif char in _ISOLATES:
            stack.append(PDI)
        elif char == PDF:
            if not stack or stack[-1] != PDF:
                continue
            stack.pop()
        elif char == PDI:
            if PDI not in stack:
                continue
            while stack.pop() != PDI:
                pass
        out.append(char)
    out.extend(reversed(stack))
    return "".join(out)


def isolate(text: str) -> str:
    """``text`` as one bidi-isolated run (FSI ... PDI), safe to place beside other text.

    Paragraph and line separators become spaces: a separator would end the isolate
    early and let the rest of the text set the direction of what follows it.
    """
    return FSI + balanced(_BREAKS.sub(" ", text)) + PDI


def inline(text: str, limit: int | None = INLINE_LIMIT) -> str:
    """:func:`one_line` then :func:`isolate`: untrusted text for a label, tooltip or
    accessible text that also holds our own words."""
    return isolate(one_line(text, limit))
