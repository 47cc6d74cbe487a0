"""Fenced code blocks of a rendered answer: where they are, what they hold, and their colours.

Qt's Markdown reader marks every line of a fenced block with ``BlockCodeFence`` and
its info string's first word with ``BlockCodeLanguage``; :func:`code_blocks` groups
those lines back into blocks, so the message view can put a Copy button and sideways
scrolling on each. :func:`highlight_code_blocks` colours them with Pygments, by the
language tag only: a block without a known tag stays plain (guessing a language
means running every lexer over the text, which is slow and often wrong).

Colours come from one Pygments style per theme, each colour moved in lightness (hue
kept) until it holds WCAG AA contrast, 4.5:1, against any code background of that
theme, so no token is hard to read in either theme.
"""

from __future__ import annotations

import colorsys
import logging
import time
from collections.abc import Generator
from dataclasses import dataclass
from functools import lru_cache

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from PySide6.QtGui import QColor, QFont, QTextBlock, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat

log = logging.getLogger(__name__)

#: Blocks longer than this stay plain: 2,000 lines of 50 characters. Colours in a longer
#: dump (a log, a data file, minified code) help no one, and lexing it would only spend
#: the time budget below that the code blocks after it can use.
MAX_HIGHLIGHT_CHARS = 100_000

#: Highlighting runs in the GUI thread while an answer is laid out, and Pygments lexes
#: 0.5 to 7 MB/s depending on the language (Python slowest, SQL and JSON fast). After
#: this much time in one call the remaining code stays plain, so no answer can hold up
#: the window for longer, whatever its code and whatever the lexer does with it.
TIME_BUDGET_SECONDS = 0.025
#: The first characters of code in a message are coloured whatever the clock says (about
#: 300 lines, a few milliseconds of lexing): an answer's code looks the same on a busy
#: machine as on an idle one; only the part beyond is subject to the time budget.
ALWAYS_COLOURED_CHARS = 16_000

#: :func:`highlight_steps` yields after about this much lexing, so the colouring of a long
#: block can be spread over turns of the event loop (see :mod:`.row_warmer`).
STEP_SECONDS = 0.0005

#: WCAG 2.x level AA for normal text.
MIN_CONTRAST = 4.5

#: The Pygments style each theme starts from.
STYLE_NAMES = {False: "default", True: "github-dark"}

#: The darkest code background a light theme is expected to have and the lightest one a
#: dark theme is expected to have (``theme.code_background()`` is the base colour 8% of
#: the way to the text colour: #ebebeb on white, #2b2c2e on a #17181b base). Colours are
#: made to hold :data:`MIN_CONTRAST` against these bounds and so against every background
#: lighter (light theme) or darker (dark theme) than them.
WORST_BACKGROUNDS = {False: QColor("#d8d8d8"), True: QColor("#404040")}


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block of a document.

    ``text`` is exactly the code, line breaks as ``\\n``, without the fences and without
    a newline after the last line: what Copy puts on the clipboard. Qt's reader (md4c)
    turns a tab in a line's indentation into spaces up to the next multiple of four
    columns; tabs after the first other character are kept.
    """

    language: str
    text: str
    first_block: int
    last_block: int
    start: int
    end: int

    def blocks(self, document: QTextDocument) -> list[QTextBlock]:
        """The document's blocks (lines) of this code block, first to last."""
        return [document.findBlockByNumber(n) for n in range(self.first_block, self.last_block + 1)]


def code_blocks(document: QTextDocument) -> list[CodeBlock]:
    """Every fenced code block of ``document``, in order.

    Consecutive lines belong to one block while their fence character and language
    agree. Qt keeps no boundary between two fences that follow each other with nothing
    in between, so two such blocks of one language come out as one. An empty fenced
    block has no line in the document and so no entry.
    """
    found: list[CodeBlock] = []
    lines: list[str] = []
    first = last = QTextBlock()
    key: tuple[str, str] | None = None

    def close() -> None:
        if key is not None:
            end = last.position() + last.length() - 1
            text = "\n".join(lines)
            found.append(
                CodeBlock(key[1], text, first.blockNumber(), last.blockNumber(), first.position(), end)
            )

    # Lines of one block share one format; read each format's fence and language once.
    keys: dict[int, tuple[str, str] | None] = {}
    block = document.begin()
    while block.isValid():
        index = block.blockFormatIndex()
        if index in keys:
            this_key = keys[index]
        else:
            this_key = keys[index] = _fence_key(block)
        if this_key is not None:
            if this_key != key:
                close()
                lines, first, key = [], block, this_key
            lines.append(block.text())
            last = block
        elif key is not None:
            close()
            key = None
        block = block.next()
    close()
    return found


def _fence_key(block: QTextBlock) -> tuple[str, str] | None:
    """(fence character, language) of a line of a fenced block; None for any other line."""
    fmt = block.blockFormat()
    if not fmt.hasProperty(QTextFormat.Property.BlockCodeFence):
        return None
    return (
        str(fmt.property(QTextFormat.Property.BlockCodeFence) or ""),
        str(fmt.property(QTextFormat.Property.BlockCodeLanguage) or ""),
    )


def highlight_code_blocks(document: QTextDocument, dark: bool, blocks: list[CodeBlock] | None = None) -> None:
    """Colour the code of every fenced block whose language Pygments knows, in place.

    ``blocks`` is :func:`code_blocks` of ``document`` when the caller already has it (the
    walk over every line is then not made twice). Meant for a freshly rendered document:
    colours are only ever added, so a document highlighted for the other theme keeps
    some of that theme's colours.

    Colours are merged into the existing character formats (the fixed-width font set by
    the renderer stays); text Pygments leaves plain keeps the palette's text colour.
    Lexing stops when :data:`TIME_BUDGET_SECONDS` is spent: what follows stays plain.
    """
    for _ in highlight_steps(document, dark, blocks):
        pass


def highlight_steps(
    document: QTextDocument, dark: bool, blocks: list[CodeBlock] | None = None
) -> Generator[None, None, None]:
    """:func:`highlight_code_blocks` in steps of about :data:`STEP_SECONDS` of lexing. The
    time budget counts the time spent in the steps only, not the time between them: the
    code looks the same however the steps are spread."""
    budget = _Budget(TIME_BUDGET_SECONDS)
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    free = ALWAYS_COLOURED_CHARS  # characters still coloured without looking at the clock
    try:
        for block in code_blocks(document) if blocks is None else blocks:
            done = yield from _highlight(cursor, block, dark, budget, free)
            if not done:
                log.debug("highlighting stopped at its time budget; the rest stays plain")
                break
            free = max(0, free - len(block.text))
    finally:
        cursor.endEditBlock()


class _Budget:
    """Time spent lexing, counted between the pauses of :func:`highlight_steps`."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds
        self.resumed = time.perf_counter()

    def over(self, now: float) -> bool:
        return self.left - (now - self.resumed) < 0

    def pause(self, now: float) -> None:
        self.left -= now - self.resumed

    def resume(self) -> None:
        self.resumed = time.perf_counter()


def _highlight(
    cursor: QTextCursor, block: CodeBlock, dark: bool, budget: _Budget, free: int
) -> Generator[None, None, bool]:
    """Colour one block, in steps; False when the budget ran out before its end (the clock
    is only looked at beyond its first ``free`` characters)."""
    if not block.text or len(block.text) > MAX_HIGHLIGHT_CHARS:
        return True
    lexer = lexer_for(block.language)
    if lexer is None:
        return True
    step_ends = time.perf_counter() + STEP_SECONDS
    formats = _FORMATS[dark]
    text = block.text
    wide = len(text.encode("utf-16-le")) // 2 != len(text)
    position, seen = block.start, 0
    run_start, run_format = position, None
    # The unprocessed tokens index the text as given (get_tokens() would first rewrite it:
    # line ends, a leading byte order mark, tabs), so every token's place is known.
    for count, (index, ttype, _value) in enumerate(lexer.get_tokens_unprocessed(text)):
        # Document positions count UTF-16 code units: a character beyond the BMP is two.
        position += len(text[seen:index].encode("utf-16-le")) // 2 if wide else index - seen
        seen = index
        fmt = formats.get(ttype)
        if fmt is None and ttype not in formats:
            fmt = formats[ttype] = _format_for(ttype, dark)
        if fmt is not run_format:
            _apply(cursor, run_start, position, run_format)
            run_start, run_format = position, fmt
        if count % 64 == 63:
            now = time.perf_counter()
            if index > free and budget.over(now):
                _apply(cursor, run_start, position, run_format)
                return False
            if now > step_ends:
                budget.pause(now)
                yield
                budget.resume()
                step_ends = time.perf_counter() + STEP_SECONDS
    _apply(cursor, run_start, block.end, run_format)
    return True


def _apply(cursor: QTextCursor, start: int, end: int, fmt: QTextCharFormat | None) -> None:
    if fmt is None or end <= start:
        return
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    cursor.mergeCharFormat(fmt)


@lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer | None:
    """The Pygments lexer whose alias is ``language`` (``python``, ``py``, ``SQL``), or None.

    Its tokens are read unprocessed, so they line up with the document's characters.
    """
    alias = language.strip().lower()
    if not alias:
        return None
    try:
        return get_lexer_by_name(alias)
    except ClassNotFound:
        return None


def colours_used(dark: bool) -> dict[str, QColor]:
    """Every foreground colour the highlighter can apply in a theme, by token type name."""
    style = get_style_by_name(STYLE_NAMES[dark])
    out: dict[str, QColor] = {}
    for ttype in style.styles:
        fmt = _format_for(ttype, dark)
        if fmt is not None and fmt.hasProperty(QTextFormat.Property.ForegroundBrush):
            out[str(ttype)] = fmt.foreground().color()
    return out


#: Formats by token type, per theme (dark or not), filled as token types turn up.
_FORMATS: dict[bool, dict[_TokenType, QTextCharFormat | None]] = {False: {}, True: {}}


def _format_for(ttype: _TokenType, dark: bool) -> QTextCharFormat | None:
    """The format of a token type: the style's colour made readable, bold and italic;
    None where the style says nothing beyond plain text."""
    if ttype in Token.Text.Whitespace:
        return None  # a colour on spaces shows nothing and splits runs
    style = get_style_by_name(STYLE_NAMES[dark])
    spec = style.style_for_token(ttype)
    plain = style.style_for_token(Token)
    fmt = QTextCharFormat()
    if spec["color"] and spec["color"] != plain["color"]:
        fmt.setForeground(readable(QColor("#" + spec["color"]), WORST_BACKGROUNDS[dark]))
    if spec["bold"]:
        fmt.setFontWeight(QFont.Weight.Bold)
    if spec["italic"]:
        fmt.setFontItalic(True)
    return fmt if fmt.properties() else None


def relative_luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an opaque colour."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2.x contrast ratio of two opaque colours, 1.0 to 21.0."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def readable(colour: QColor, background: QColor, minimum: float = MIN_CONTRAST) -> QColor:
    """``colour`` with its hue and saturation, darkened or lightened (away from
    ``background``) just enough to hold ``minimum`` contrast against it."""
    if contrast_ratio(colour, background) >= minimum:
        return QColor(colour)
    towards_white = relative_luminance(background) < 0.18
    hue, lightness, saturation = colorsys.rgb_to_hls(colour.redF(), colour.greenF(), colour.blueF())
    for _ in range(100):
        lightness = min(1.0, lightness + 0.01) if towards_white else max(0.0, lightness - 0.01)
        r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
        candidate = QColor.fromRgbF(r, g, b)
        # Compare the colour as it will be stored (8 bits a channel), not the float.
        candidate = QColor(candidate.name())
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return QColor("#ffffff" if towards_white else "#000000")
