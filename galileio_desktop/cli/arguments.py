"""Command-line text must be UTF-8: refused in one line (exit 2) before anything runs.

Python hands bytes that are not UTF-8 to the program as lone surrogates
("surrogateescape"); Windows can pass lone UTF-16 surrogates. Either would fail far
away, as a traceback, the moment the text is written to the mirror, a log line or
DynamoDB. Checked once, first, the way argparse reports a usage error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

PROG = "galileio-desktop"
#: Bytes of a bad argument shown in the message, at most.
SHOWN_BYTES = 60


def undecodable(text: str) -> bool:
    """True when ``text`` holds a lone surrogate: bytes that were not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def shown(text: str) -> str:
    """The text's bytes in ASCII: printable ones as they are, the rest as ``\\xNN``."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    cut = raw[:SHOWN_BYTES]
    escaped = "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in cut)
    return escaped + ("..." if len(raw) > SHOWN_BYTES else "")


def require_text_arguments(argv: Sequence[str] | None, stderr: TextIO | None = None) -> None:
    """Exit 2 with one line on stderr when an argument is not valid UTF-8 text."""
    arguments = sys.argv[1:] if argv is None else argv
    for position, argument in enumerate(arguments, start=1):
        if undecodable(argument):
            (stderr or sys.stderr).write(
                f"{PROG}: argument {position} ({shown(argument)}) is not valid UTF-8 text; "
                "nothing was done.\n"
            )
            raise SystemExit(2)
