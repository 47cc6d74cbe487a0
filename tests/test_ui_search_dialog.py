"""Ctrl+K search: results from the mirror's full-text index, highlighted, newest query wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_helpers import offline_factory, seed_library

from galileio_desktop.ui.search.search_dialog import SearchDialog
from galileio_desktop.ui.search.search_results_model import (
    SNIPPET_END,
    SNIPPET_START,
    SearchResultsModel,
    snippet_segments,
)
from galileio_desktop.ui.workers.client import WorkerClient

pytestmark = pytest.mark.gui


@pytest.fixture
def client(qtbot, tmp_path: Path):
    mirror = tmp_path / "mirror.sqlite3"
    seed_library(mirror, chats=3)
    client = WorkerClient(offline_factory(mirror), periodic_sync=False)
    with qtbot.waitSignal(client.sig_started, timeout=10_000):
        client.start()
    yield client
    client.shutdown()


@pytest.fixture
def dialog(qtbot, client: WorkerClient) -> SearchDialog:
    dialog = SearchDialog(client)
    qtbot.addWidget(dialog)
    dialog.open_search()
    return dialog


def test_snippet_markers_become_highlight_runs() -> None:
    snippet = f"the {SNIPPET_START}hotel{SNIPPET_END} cap\nis {SNIPPET_START}180{SNIPPET_END}"
    assert snippet_segments(snippet) == [("the ", False), ("hotel", True), (" cap is ", False), ("180", True)]
    assert snippet_segments("<b>x</b>") == [("<b>x</b>", False)]  # shown as text, never markup


def test_typing_searches_and_enter_chooses(qtbot, dialog: SearchDialog) -> None:
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000) as blocker:
        qtbot.keyClicks(dialog.query_edit, "Passage 1")
    assert blocker.args[0] >= 1
    hit = dialog.model.hit_at(0)
    assert hit is not None and hit.title == "Seeded chat 1"
    assert SNIPPET_START in hit.snippet
    assert dialog.results_view.currentIndex().row() == 0
    with qtbot.waitSignal(dialog.sig_hit_chosen, timeout=2000) as chosen:
        qtbot.keyClick(dialog.query_edit, Qt.Key.Key_Return)
    assert chosen.args[0] == hit.chat_id and chosen.args[1] == (hit.message_id or "")
    assert not dialog.isVisible()


def test_no_matches_says_so(qtbot, dialog: SearchDialog) -> None:
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000) as blocker:
        qtbot.keyClicks(dialog.query_edit, "zebra")
    assert blocker.args == [0] and dialog.status_label.text() == "No matches"


def _shown_titles(dialog: SearchDialog) -> set[str]:
    return {dialog.model.hit_at(r).title for r in range(dialog.model.rowCount())}


def _record(dialog: SearchDialog, client: WorkerClient) -> tuple[list[str], list[tuple[int, set[str]]]]:
    """(queries the worker answered, in the order they came back; what the dialog showed each time)."""
    answered: list[str] = []
    shown: list[tuple[int, set[str]]] = []
    # Connected after the client's delivery, so it runs once the dialog had its chance.
    client.events.sig_op_finished.connect(
        lambda op, _result, _failure: answered.append(op.name.removeprefix("search "))
    )
    dialog.sig_results_shown.connect(lambda count: shown.append((count, _shown_titles(dialog))))
    return answered, shown


def test_only_the_latest_query_is_shown(qtbot, client: WorkerClient, dialog: SearchDialog) -> None:
    # The worker answers in the order asked, so the older query's answer comes first:
    # it must be dropped, not shown until the newer one replaces it.
    answered, shown = _record(dialog, client)
    dialog.query_edit.setText("Question")
    dialog.search_now()
    dialog.query_edit.setText("Answer 2")
    dialog.search_now()
    qtbot.waitUntil(lambda: len(answered) == 2, timeout=5000)
    assert answered == ["Question", "Answer 2"]
    assert shown == [(1, {"Seeded chat 2"})]
    assert dialog.status_label.text() == "1 match"


def test_an_answer_to_a_cleared_query_is_dropped(qtbot, client: WorkerClient, dialog: SearchDialog) -> None:
    answered, shown = _record(dialog, client)
    dialog.query_edit.setText("Question")
    dialog.search_now()
    dialog.query_edit.clear()
    dialog.search_now()
    qtbot.waitUntil(lambda: len(answered) == 1, timeout=5000)
    assert answered == ["Question"]
    assert shown == [] and dialog.model.rowCount() == 0 and dialog.status_label.text() == ""


def test_results_model_passes_qtmodeltester(qtmodeltester, qtbot, dialog: SearchDialog) -> None:
    with qtbot.waitSignal(dialog.sig_results_shown, timeout=5000):
        qtbot.keyClicks(dialog.query_edit, "Seeded")
    assert isinstance(dialog.model, SearchResultsModel) and dialog.model.rowCount() == 3
    qtmodeltester.check(dialog.model, force_py=True)
