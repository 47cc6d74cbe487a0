"""Fenced code blocks: found with their exact code, coloured by language, readable in both themes."""

from __future__ import annotations

import time

import pytest
from pygments.styles import get_style_by_name
from PySide6.QtGui import QColor, QPalette, QTextCursor, QTextDocument, QTextFormat

from galileio_desktop.ui import theme
from galileio_desktop.ui.conversation import code_highlight
from galileio_desktop.ui.conversation.code_highlight import (
    MAX_HIGHLIGHT_CHARS,
    MIN_CONTRAST,
    WORST_BACKGROUNDS,
    CodeBlock,
    code_blocks,
    colours_used,
    contrast_ratio,
    highlight_code_blocks,
    readable,
)
from galileio_desktop.ui.conversation.safe_markdown import render_markdown

pytestmark = pytest.mark.gui


def rendered(markdown: str) -> QTextDocument:
    document = QTextDocument()
    render_markdown(document, markdown)
    return document


def colour_at(document: QTextDocument, position: int) -> QColor | None:
    """The foreground set on the character at ``position``, None when it has none."""
    cursor = QTextCursor(document)
    cursor.setPosition(position + 1)
    fmt = cursor.charFormat()
    return fmt.foreground().color() if fmt.hasProperty(QTextFormat.Property.ForegroundBrush) else None


def colours_in(document: QTextDocument, block: CodeBlock) -> set[str]:
    return {c.name() for p in range(block.start, block.end) if (c := colour_at(document, p)) is not None}


def light_palette() -> QPalette:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#efefef"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    return palette


def dark_palette() -> QPalette:
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#1f2125"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#17181b"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    return palette


# -- code_blocks: exact code -------------------------------------------------------------------


def test_blocks_keep_language_text_and_positions(qapp) -> None:
    document = rendered(
        "Intro\n\n```python\ndef f():\n    return 1\n```\n\nBetween\n\n~~~SQL extra words\nselect 1\n~~~\n"
    )
    blocks = code_blocks(document)
    assert [(b.language, b.text) for b in blocks] == [
        ("python", "def f():\n    return 1"),
        ("SQL", "select 1"),
    ]
    first = blocks[0]
    assert document.findBlockByNumber(first.first_block).text() == "def f():"
    assert document.findBlockByNumber(first.last_block).text() == "    return 1"
    cursor = QTextCursor(document)
    cursor.setPosition(first.start)
    cursor.setPosition(first.end, QTextCursor.MoveMode.KeepAnchor)
    assert cursor.selectedText().replace("\u2029", "\n") == first.text
    assert [b.text() for b in first.blocks(document)] == ["def f():", "    return 1"]


def test_code_text_has_no_fence_and_no_added_newline_but_keeps_blank_last_lines(qapp) -> None:
    (block,) = code_blocks(rendered("```\nx = 1\n\n\n```\n"))
    assert block.text == "x = 1\n\n"
    (block,) = code_blocks(rendered("```\nx = 1\n```\n"))
    assert block.text == "x = 1"


def test_an_empty_block_has_no_lines_and_leaves_its_neighbours_alone(qapp) -> None:
    assert code_blocks(rendered("```python\n```\n")) == []
    blocks = code_blocks(rendered("Text\n\n```\n```\n\nMore\n\n```sql\nselect 2\n```\n"))
    assert [(b.language, b.text) for b in blocks] == [("sql", "select 2")]


def test_backticks_inside_a_longer_fence_are_code(qapp) -> None:
    (block,) = code_blocks(rendered("````markdown\n```sql\nselect 1\n```\n````\n"))
    assert block.language == "markdown"
    assert block.text == "```sql\nselect 1\n```"
    (block,) = code_blocks(rendered("~~~js\nconst s = `a ${b}`;\n```\n~~~\n"))
    assert block.text == "const s = `a ${b}`;\n```"


def test_crlf_source_gives_lf_code(qapp) -> None:
    (block,) = code_blocks(rendered("Text\r\n\r\n```py\r\nx = 1\r\ny = 2\r\n```\r\n"))
    assert block.text == "x = 1\ny = 2"
    assert "\r" not in block.text


def test_tabs_inside_a_line_are_kept_and_leading_tabs_become_spaces(qapp) -> None:
    # Qt's reader (md4c) expands a line's indentation to spaces, to 4-column tab stops;
    # tabs after the indentation reach the document as they are.
    (block,) = code_blocks(rendered("```\na\tb\n\tc\td\n  \te\n```\n"))
    assert block.text == "a\tb\n    c\td\n    e"


def test_a_very_long_line_and_wide_characters_are_whole(qapp) -> None:
    long_line = "select " + ", ".join(f"column_{i:04d}" for i in range(3000))
    (block,) = code_blocks(rendered(f"```sql\n{long_line}\n```\n"))
    assert block.text == long_line
    (block,) = code_blocks(rendered("```python\nx = '😀'  # é 日本\n```\n"))
    assert block.text == "x = '😀'  # é 日本"
    assert block.end - block.start == len(block.text) + 1  # the emoji is two UTF-16 units


def test_markdown_inside_code_is_text(qapp) -> None:
    (block,) = code_blocks(rendered("```\n<b>x</b> **y** [z](https://a.example) &amp;\n```\n"))
    assert block.text == "<b>x</b> **y** [z](https://a.example) &amp;"


def test_fences_in_lists_and_quotes_are_found(qapp) -> None:
    blocks = code_blocks(rendered("- step\n\n  ```bash\n  ls -l\n  ```\n\n> ```\n> quoted\n> ```\n"))
    assert [(b.language, b.text) for b in blocks] == [("bash", "ls -l"), ("", "quoted")]


def test_adjacent_fences_of_different_languages_stay_apart(qapp) -> None:
    blocks = code_blocks(rendered("```sql\nselect 1\n```\n```python\nprint(1)\n```\n"))
    assert [(b.language, b.text) for b in blocks] == [("sql", "select 1"), ("python", "print(1)")]


# -- highlighting ------------------------------------------------------------------------------


def test_known_languages_get_colours_and_unknown_ones_none(qapp) -> None:
    document = rendered(
        "```python\ndef f(x):\n    return 'text'  # comment\n```\n\n"
        "```sql\nselect count(*) from t where a = 'x'\n```\n\n"
        "```nosuchlanguage\ndef f(x): return 'text'\n```\n\n"
        "```\ndef f(x): return 'text'\n```\n"
    )
    highlight_code_blocks(document, dark=False)
    python, sql, unknown, untagged = code_blocks(document)
    assert len(colours_in(document, python)) >= 3  # keyword, string, comment at least
    assert len(colours_in(document, sql)) >= 2
    assert colours_in(document, unknown) == set()
    assert colours_in(document, untagged) == set()
    # a keyword is coloured and the text after the block is not
    assert colour_at(document, python.start) is not None  # "def"
    after = rendered("```python\nx = 1\n```\n\nplain words")
    highlight_code_blocks(after, dark=False)
    assert colour_at(after, after.characterCount() - 3) is None


def test_aliases_and_case_find_the_same_lexer(qapp) -> None:
    for tag in ("python", "py", "PY", "Python"):
        document = rendered(f"```{tag}\nimport os\n```\n")
        highlight_code_blocks(document, dark=False)
        (block,) = code_blocks(document)
        assert colours_in(document, block), tag


def test_themes_use_different_colours_and_keep_the_code_font(qapp) -> None:
    light = rendered("```python\nimport os  # c\n```\n")
    dark = rendered("```python\nimport os  # c\n```\n")
    fixed = QTextCursor(light)
    fixed.setPosition(1)
    family = fixed.charFormat().fontFamilies()
    highlight_code_blocks(light, dark=False)
    highlight_code_blocks(dark, dark=True)
    (block,) = code_blocks(light)
    assert colours_in(light, block) != colours_in(dark, block)
    fixed = QTextCursor(light)
    fixed.setPosition(1)
    assert fixed.charFormat().fontFamilies() == family


def test_colours_line_up_after_wide_characters(qapp) -> None:
    document = rendered("```python\ns = '😀😀'\nimport os\n```\n")
    highlight_code_blocks(document, dark=False)
    (block,) = code_blocks(document)
    import_at = block.start + len("s = '😀😀'".encode("utf-16-le")) // 2 + 1
    keyword = colour_at(document, import_at)
    assert keyword is not None
    assert colour_at(document, import_at + len("import")) is None  # the space after it
    assert colour_at(document, import_at + len("import ")) is not None  # "os", a namespace


def test_blocks_found_once_can_be_handed_in(qapp) -> None:
    document = rendered("```python\nimport os\n```\n\n```sql\nselect 1\n```\n")
    python, sql = code_blocks(document)
    highlight_code_blocks(document, dark=False, blocks=[sql])
    assert colours_in(document, sql)
    assert not colours_in(document, python)  # only the blocks handed in


def test_the_document_text_is_unchanged(qapp) -> None:
    markdown = "Intro\n\n```python\nfor i in range(3):\n\tprint(i)  # 😀\n```\n\nEnd"
    document = rendered(markdown)
    before = document.toPlainText()
    highlight_code_blocks(document, dark=True)
    assert document.toPlainText() == before


# -- contrast ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_colour_holds_aa_contrast_on_the_code_background(qapp, dark: bool) -> None:
    palette = dark_palette() if dark else light_palette()
    background = theme.code_background(palette)
    worst = WORST_BACKGROUNDS[dark]
    # the theme's own code background is no harder than the bound the colours are made for
    if dark:
        assert background.lightness() <= worst.lightness()
    else:
        assert background.lightness() >= worst.lightness()
    used = colours_used(dark)
    assert len(set(c.name() for c in used.values())) >= 8  # a real palette, not one colour
    failing = {
        name: (
            colour.name(),
            round(min(contrast_ratio(colour, background), contrast_ratio(colour, worst)), 2),
        )
        for name, colour in used.items()
        if min(contrast_ratio(colour, background), contrast_ratio(colour, worst)) < MIN_CONTRAST
    }
    assert not failing


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_colours_applied_to_real_code_are_among_those_measured(qapp, dark: bool) -> None:
    document = rendered(
        "```python\n@decorator\nclass A(Base):\n    '''doc'''\n    x: int = 0x1F  # note\n"
        '    def f(self):\n        return f"{self.x!r}\\n" or None\n```\n'
    )
    highlight_code_blocks(document, dark)
    (block,) = code_blocks(document)
    applied = colours_in(document, block)
    assert len(applied) >= 4
    assert applied <= {c.name() for c in colours_used(dark).values()}


def test_readable_keeps_the_hue_and_reaches_the_ratio(qapp) -> None:
    green = QColor("#7ee787")
    assert readable(green, QColor("#000000")).name() == green.name()  # already fine
    darker = readable(green, QColor("#ffffff"))
    assert contrast_ratio(darker, QColor("#ffffff")) >= MIN_CONTRAST
    assert abs(darker.hslHue() - green.hslHue()) <= 3
    grey = readable(QColor("#8b949e"), QColor("#404040"))
    assert contrast_ratio(grey, QColor("#404040")) >= MIN_CONTRAST


def test_style_names_exist_in_the_installed_pygments() -> None:
    for name in code_highlight.STYLE_NAMES.values():
        assert get_style_by_name(name) is not None


# -- speed and the cap -------------------------------------------------------------------------


def _best_of(runs: int, markdown: str, dark: bool = False) -> tuple[float, QTextDocument]:
    best = float("inf")
    document = rendered(markdown)
    for _ in range(runs):
        document = rendered(markdown)
        started = time.perf_counter()
        highlight_code_blocks(document, dark)
        best = min(best, time.perf_counter() - started)
    return best, document


def test_an_answer_sized_block_is_coloured_to_its_end(qapp) -> None:
    code = "\n".join(f"select id, sum(amount_eur) from t{i} -- {i}" for i in range(300))
    code_highlight.lexer_for("sql")  # the lexer's import is a one-off cost
    _elapsed, document = _best_of(1, f"```sql\n{code}\n```\n")
    (block,) = code_blocks(document)
    last_line = document.findBlockByNumber(block.last_block)
    assert colour_at(document, last_line.position()) is not None  # "select" of line 300
    assert colour_at(document, last_line.position() + last_line.length() - 2) is not None  # comment


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("sql", "select id, sum(amount_eur) from t{0} -- {0}"),
        # Pygments' slowest common lexer: about 0.5 MB/s on a busy laptop
        ("python", "    total = compute(rows, factor=2.5)  # {0}"),
    ],
)
def test_past_its_first_part_a_2000_line_block_stops_at_the_time_budget(
    qapp, monkeypatch: pytest.MonkeyPatch, language: str, line: str
) -> None:
    code = "\n".join(line.format(i) for i in range(2000))
    assert code_highlight.ALWAYS_COLOURED_CHARS < len(code) < MAX_HIGHLIGHT_CHARS
    code_highlight.lexer_for(language)
    monkeypatch.setattr(code_highlight, "TIME_BUDGET_SECONDS", 0.0)  # a clock always past due
    _elapsed, document = _best_of(1, f"```{language}\n{code}\n```\n")
    (block,) = code_blocks(document)
    marker = line.index("--" if language == "sql" else "#")
    assert colour_at(document, block.start + marker) is not None  # the first part, whatever the clock
    last_line = document.findBlockByNumber(block.last_block)
    assert colour_at(document, last_line.position() + marker) is None  # the rest stays plain


def test_a_block_over_the_cap_stays_plain(qapp) -> None:
    # a dump, such as a log pasted whole: 1,000 long lines
    code = "\n".join(f"select {i}, " + "'x', " * 20 + "1" for i in range(1000))
    assert len(code) > MAX_HIGHLIGHT_CHARS
    _elapsed, document = _best_of(1, f"```sql\n{code}\n```\n\nNext:\n\n```sql\nselect 1\n```\n")
    big, small = code_blocks(document)
    assert colour_at(document, big.start) is None
    assert colour_at(document, small.start) is not None  # the next block still gets colours


def test_the_demo_has_a_cited_sql_answer_with_a_line_over_120_characters(qapp) -> None:
    from galileio_desktop.demo import load_seed

    found = []
    for chat in load_seed()["chats"]:
        for message in chat["messages"]:
            if message["type"] != "ai" or len(message["sources"]) < 2:
                continue
            document = rendered(message["content"])
            prose = document.toPlainText()
            for block in code_blocks(document):
                if block.language == "sql" and max(map(len, block.text.split("\n"))) > 120:
                    found.append((prose, block))
    assert found, "no demo answer has a SQL block with a line longer than 120 characters"
    prose, block = found[0]
    assert "[1]" in prose and "[2]" in prose
    highlight_code_blocks(document := rendered(f"```sql\n{block.text}\n```\n"), dark=False)
    assert code_blocks(document)[0].text == block.text
    assert colours_in(document, code_blocks(document)[0])
