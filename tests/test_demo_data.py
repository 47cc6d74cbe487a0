"""The demo's content and the desktop resources are shipped data: check them like code.

The demo seeds a local table from ``demo_data/chats.json`` and answers from
``demo_data/documents/``; the desktop integration needs a valid ``.desktop`` file
and an icon. A typo in any of them shows up only when someone runs the demo or
installs the app, so these tests catch it first.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import struct
import subprocess
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from galileio_desktop.data.dynamo.item_size import MAX_ITEM_BYTES
from galileio_desktop.data.schema import (
    Chat,
    Message,
    Source,
    check_item_size,
    make_sources,
    validate_title,
)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PACKAGE = resources.files("galileio_desktop")
DEMO_DATA = Path(str(PACKAGE / "demo_data"))
PACKAGE_RESOURCES = Path(str(PACKAGE / "resources"))
DESKTOP_FILE = PACKAGE_RESOURCES / "galileio-desktop.desktop"
METAINFO = PACKAGE_RESOURCES / "org.galileio.Desktop.metainfo.xml"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

SOURCE_LOCATION = re.compile(r"^s3://galileo-docs-demo/[a-z0-9-]+/[A-Za-z0-9._-]+\.pdf$")
CITATION = re.compile(r"\[(\d+)\]")
FENCED_CODE = re.compile(r"```.*?```", re.DOTALL)
SIDEBAR_GROUPS = ("Today", "Yesterday", "Previous 7 days", "Previous 30 days", "Older")
#: Groups are computed from a seeding time at midday, when ages in minutes map to
#: calendar days without ambiguity (a chat 140 minutes old is "Today" at noon).
REFERENCE_NOW = datetime(2024, 11, 20, 12, 0, 0)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    with open(DEMO_DATA / "chats.json", encoding="utf-8") as fh:
        data = json.load(fh)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def chats(demo: dict[str, Any]) -> list[dict[str, Any]]:
    chats = demo["chats"]
    assert isinstance(chats, list)
    return chats


def _messages(chats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for chat in chats for m in chat["messages"]]


def _answers(chats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in _messages(chats) if m["type"] == "ai"]


def sidebar_group(age_minutes: int, now: datetime = REFERENCE_NOW) -> str:
    """The sidebar group of a chat created ``age_minutes`` before ``now``, by calendar day."""
    created = now - timedelta(minutes=age_minutes)
    days = (now.date() - created.date()).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    if days <= 30:
        return "Previous 30 days"
    return "Older"


# -- chats.json: shape ----------------------------------------------------------------------------


def test_top_level_shape(demo: dict[str, Any], chats: list[dict[str, Any]]) -> None:
    assert set(demo) == {"userId", "chats"}
    assert demo["userId"] == "demo-user-0001"
    assert len(chats) >= 8


def test_every_chat_has_the_documented_keys_and_a_title(chats: list[dict[str, Any]]) -> None:
    for chat in chats:
        assert set(chat) == {"chatId", "title", "ageMinutes", "messages"}, chat.get("title")
        assert validate_title(chat["title"]) == chat["title"]
        assert chat["title"] == chat["title"].strip()
        assert len(chat["title"]) <= 80
        assert isinstance(chat["ageMinutes"], int) and chat["ageMinutes"] > 0
        assert isinstance(chat["messages"], list) and chat["messages"]


def test_ids_are_uuids_and_unique(chats: list[dict[str, Any]]) -> None:
    chat_ids = [chat["chatId"] for chat in chats]
    message_ids = [m["messageId"] for m in _messages(chats)]
    for value in chat_ids + message_ids:
        assert str(uuid.UUID(value)) == value
    assert len(set(chat_ids)) == len(chat_ids)
    assert len(set(message_ids)) == len(message_ids)
    assert not set(chat_ids) & set(message_ids)


def test_messages_have_the_documented_keys(chats: list[dict[str, Any]]) -> None:
    for message in _messages(chats):
        assert set(message) == {"messageId", "type", "content", "offsetSeconds", "sources"}
        assert message["type"] in ("human", "ai")
        assert isinstance(message["content"], str) and message["content"].strip()
        assert message["content"] == message["content"].strip()
        assert isinstance(message["offsetSeconds"], int)
        assert isinstance(message["sources"], list)


def test_messages_alternate_from_prompt_to_answer(chats: list[dict[str, Any]]) -> None:
    for chat in chats:
        types = [m["type"] for m in chat["messages"]]
        expected = ["human", "ai"] * (len(types) // 2)
        assert types == expected, chat["title"]


def test_message_times_increase_and_stay_in_the_past(chats: list[dict[str, Any]]) -> None:
    for chat in chats:
        offsets = [m["offsetSeconds"] for m in chat["messages"]]
        assert offsets[0] >= 0
        assert offsets == sorted(set(offsets)), chat["title"]
        # seeded as createdAt = now - ageMinutes: no message may land in the future
        assert offsets[-1] < chat["ageMinutes"] * 60, chat["title"]


def test_chat_lengths_vary_and_one_chat_needs_paging(chats: list[dict[str, Any]]) -> None:
    lengths = [len(chat["messages"]) for chat in chats]
    assert min(lengths) == 2
    assert max(lengths) >= 60
    assert len(set(lengths)) >= 5


def test_ages_cover_every_sidebar_group(chats: list[dict[str, Any]]) -> None:
    groups = Counter(sidebar_group(chat["ageMinutes"]) for chat in chats)
    assert set(groups) == set(SIDEBAR_GROUPS), groups
    assert groups["Today"] >= 2


def test_sidebar_group_rule_itself() -> None:
    assert sidebar_group(25) == "Today"
    assert sidebar_group(24 * 60) == "Yesterday"
    assert sidebar_group(3 * 24 * 60) == "Previous 7 days"
    assert sidebar_group(20 * 24 * 60) == "Previous 30 days"
    assert sidebar_group(45 * 24 * 60) == "Older"


# -- chats.json: sources ------------------------------------------------------------------------


def test_prompts_have_no_sources_and_answers_cite_two_to_six(chats: list[dict[str, Any]]) -> None:
    for message in _messages(chats):
        if message["type"] == "human":
            assert message["sources"] == []
        else:
            assert 2 <= len(message["sources"]) <= 6, message["content"][:60]


def test_every_source_has_a_passage_and_a_location(chats: list[dict[str, Any]]) -> None:
    for answer in _answers(chats):
        for source in answer["sources"]:
            assert set(source) == {"pageContent", "metadata"}
            assert len(source["pageContent"].split()) >= 8
            metadata = source["metadata"]
            assert SOURCE_LOCATION.match(metadata["source_location"]), metadata["source_location"]
            index = metadata["section_index"]
            assert isinstance(index, int) and not isinstance(index, bool) and index >= 0
            assert isinstance(metadata.get("page", 1), int) and metadata.get("page", 1) >= 1
            assert isinstance(metadata.get("title", ""), str)
            for value in metadata.values():
                assert not isinstance(value, float), "floats would change on the DynamoDB round trip"


def test_one_source_carries_a_web_url(chats: list[dict[str, Any]]) -> None:
    urls = [s["metadata"]["url"] for a in _answers(chats) for s in a["sources"] if "url" in s["metadata"]]
    assert urls
    assert all(re.match(r"^https?://[^\s/]+\.[a-z]{2,}/\S*$", url) for url in urls)


def test_citation_numbers_point_at_existing_sources(chats: list[dict[str, Any]]) -> None:
    cited = 0
    for answer in _answers(chats):
        prose = FENCED_CODE.sub("", answer["content"])
        numbers = [int(n) for n in CITATION.findall(prose)]
        assert all(1 <= n <= len(answer["sources"]) for n in numbers), answer["content"][:80]
        cited += bool(numbers)
    assert cited >= len(_answers(chats)) * 0.8


# -- chats.json: content ------------------------------------------------------------------------


def test_answers_exercise_the_markdown_renderer(chats: list[dict[str, Any]]) -> None:
    text = "\n".join(a["content"] for a in _answers(chats))
    features = {
        "heading": r"(?m)^#{2,3} \S",
        "python block": r"(?m)^\s*```python$",
        "sql block": r"(?m)^\s*```sql$",
        "table": r"(?m)^\|[-:| ]+\|$",
        "numbered list": r"(?m)^\s*\d+\. \S",
        "bullet list": r"(?m)^\s*- \S",
        "bold": r"\*\*[^*\n]+\*\*",
        "italic": r"(?<![*\w])\*[^*\n]+\*(?![*\w])",
        "inline code": r"`[^`\n]+`",
        "block quote": r"(?m)^> \S",
    }
    missing = [name for name, pattern in features.items() if not re.search(pattern, text)]
    assert not missing


def test_fenced_code_blocks_are_closed(chats: list[dict[str, Any]]) -> None:
    for message in _messages(chats):
        fences = re.findall(r"(?m)^\s*```", message["content"])
        assert len(fences) % 2 == 0, message["content"][:60]


def test_text_includes_accents_and_other_scripts(chats: list[dict[str, Any]]) -> None:
    text = "\n".join([c["title"] for c in chats] + [m["content"] for m in _messages(chats)])
    for char in "éüñäö":
        assert char in text
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text), "no Japanese text"
    titles = "\n".join(c["title"] for c in chats)
    assert re.search(r"[^\x00-\x7f]", titles), "no title to search with diacritics"


def test_topics_of_the_brief_are_present(chats: list[dict[str, Any]]) -> None:
    titles = " ".join(c["title"].lower() for c in chats)
    for word in ("sales", "dynamodb", "gdpr", "query", "onboarding", "postmortem", "pandas", "market"):
        assert word in titles


# -- chats.json: fits the table's data contract --------------------------------------------------


def test_every_chat_becomes_valid_table_items(demo: dict[str, Any], chats: list[dict[str, Any]]) -> None:
    user_id = demo["userId"]
    now = 1_732_104_000_000
    largest = 0
    for chat in chats:
        created = now - chat["ageMinutes"] * 60_000
        chat_item = Chat(chat["chatId"], user_id, chat["title"], created).to_item()
        check_item_size(chat_item, "chat")
        assert Chat.from_item(chat_item).title == chat["title"]
        for message in chat["messages"]:
            at = created + message["offsetSeconds"] * 1000
            item = Message(
                message["messageId"], chat["chatId"], user_id, message["type"], message["content"], at
            ).to_item()
            largest = max(largest, check_item_size(item, "message"))
            assert Message.from_item(item).content == message["content"]
            drafts = message["sources"]
            for source in make_sources(user_id, chat["chatId"], message["messageId"], drafts, at):
                source_item = source.to_item()
                check_item_size(source_item, "source")
                back = Source.from_item(source_item)
                assert back.metadata == drafts[int(back.source_id)]["metadata"]
                assert back.location.startswith("s3://galileo-docs-demo/")
    assert 0 < largest < MAX_ITEM_BYTES // 20


# -- documents -----------------------------------------------------------------------------------


def _documents() -> list[Path]:
    return sorted(p for p in (DEMO_DATA / "documents").iterdir() if p.is_file())


def test_documents_are_markdown_and_text() -> None:
    docs = _documents()
    assert 6 <= len(docs) <= 10
    suffixes = Counter(p.suffix for p in docs)
    assert set(suffixes) == {".md", ".txt"}


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_document_is_substantial_and_split_by_headings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    words = len(text.split())
    assert 300 <= words <= 2000, words
    if path.suffix == ".md":
        assert text.startswith("# ")
        headings = re.findall(r"(?m)^#{2,3} \S", text)
    else:
        headings = re.findall(r"(?m)^[A-Z0-9][A-Z0-9 ,.&:()'-]{3,}$", text)
    assert len(headings) >= 4, headings
    assert "\t" not in text
    assert text.endswith("\n")


# -- desktop file and icons ----------------------------------------------------------------------


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_file_has_the_required_keys() -> None:
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Galileio Desktop"
    # One link at a time (%u), handed to --chat; started from the menu, "--chat" alone.
    assert entry["Exec"] == "galileio-desktop --chat %u"
    assert entry["MimeType"] == "x-scheme-handler/galileio-desktop;"
    assert entry["Icon"] == "galileio-desktop"
    assert entry["Terminal"] == "false"
    assert entry["StartupWMClass"] == "galileio-desktop"
    categories = entry["Categories"]
    assert categories.endswith(";")
    assert {"Office", "Network", "Chat"} <= set(filter(None, categories.split(";")))


def test_desktop_exec_is_the_installed_command() -> None:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")
    with open(PYPROJECT, "rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    assert _desktop_entry()["Exec"].split()[0] in scripts


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None and not os.environ.get("CI"),
    reason="desktop-file-validate (Debian package desktop-file-utils) is not installed",
)
def test_desktop_file_passes_the_freedesktop_validator() -> None:
    result = subprocess.run(
        ["desktop-file-validate", str(DESKTOP_FILE)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error:" not in result.stdout


@pytest.mark.skipif(
    shutil.which("appstreamcli") is None and not os.environ.get("CI"),
    reason="appstreamcli (Debian package appstream) is not installed",
)
def test_metainfo_passes_the_appstream_validator() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_names_the_desktop_entry_and_the_command() -> None:
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == METAINFO.name.removesuffix(".metainfo.xml")
    assert component.findtext("launchable") == DESKTOP_FILE.name
    assert component.findtext("provides/binary") == _desktop_entry()["TryExec"]
    assert component.findtext("name") == _desktop_entry()["Name"]
    from galileio_desktop import __version__

    assert component.find("releases/release").get("version") == __version__


def test_packaged_icon_is_the_desktop_icon() -> None:
    root_svg = (PACKAGE_RESOURCES / "icon.svg").read_bytes()
    svg = ET.fromstring(root_svg)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 256 256"
    assert not re.search(rb"<(script|image|foreignObject)\b|xlink:href|href=", root_svg)


def test_png_icon_is_256_square_with_alpha() -> None:
    data = (PACKAGE_RESOURCES / "icon-256.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert chunk == b"IHDR" and length == 13
    width, height, _depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert (width, height) == (256, 256)
    assert colour_type == 6  # RGBA: the corners are transparent


@pytest.mark.gui
def test_png_icon_is_rendered_from_the_svg(qapp: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(PACKAGE_RESOURCES / "icon.svg"))
    assert renderer.isValid()
    rendered = QImage(256, 256, QImage.Format.Format_ARGB32)
    rendered.fill(Qt.GlobalColor.transparent)
    painter = QPainter(rendered)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()

    shipped = QImage(str(PACKAGE_RESOURCES / "icon-256.png")).convertToFormat(QImage.Format.Format_ARGB32)
    assert shipped.width() == 256 and shipped.height() == 256
    assert shipped.pixelColor(2, 2).alpha() == 0
    assert shipped.pixelColor(128, 40).alpha() == 255
    differing = sum(
        1
        for y in range(0, 256, 4)
        for x in range(0, 256, 4)
        if _channel_gap(shipped.pixelColor(x, y), rendered.pixelColor(x, y)) > 24
    )
    assert differing <= 40, f"{differing} sampled pixels differ: re-render icon-256.png from icon.svg"


def _channel_gap(a: Any, b: Any) -> int:
    return max(
        abs(a.red() - b.red()),
        abs(a.green() - b.green()),
        abs(a.blue() - b.blue()),
        abs(a.alpha() - b.alpha()),
    )
