"""Rows laid out ahead of the viewport (row_warmer) on a real offscreen window."""

from __future__ import annotations

import pytest

from galileio_desktop.ui.conversation import message_delegate
from galileio_desktop.ui.conversation.message_list_model import AI, MessageListModel
from galileio_desktop.ui.conversation.message_pane import MessagePane
from galileio_desktop.ui.conversation.row_warmer import AHEAD_SCREENS

pytestmark = pytest.mark.gui


def _settled(qtbot, pane: MessagePane) -> None:
    """Wait until the warmer has nothing left to do."""
    qtbot.waitUntil(lambda: not pane.warmer.is_active() and not pane.delegate.has_pending(), timeout=10_000)


def _visible_rows(pane: MessagePane) -> range:
    view = pane.view
    viewport = view.viewport().rect()
    first = view.indexAt(viewport.topLeft()).row()
    last = view.indexAt(viewport.bottomLeft()).row()
    return range(first, (last if last >= 0 else pane.model.rowCount() - 1) + 1)


def _build_count_of_a_paint(pane: MessagePane) -> int:
    before = pane.delegate.documents_built
    pane.view.viewport().repaint()
    return pane.delegate.documents_built - before


def test_rows_above_the_viewport_are_built_before_a_scroll_paints_them(qtbot, pane, monkeypatch) -> None:
    """With a document cache too small to keep every measured row, rows scrolled into view
    are still found built: the warmer laid them out in idle turns, ahead of the scroll."""
    monkeypatch.setattr(message_delegate, "DOC_CACHE_SIZE", 40)
    bar = pane.view.verticalScrollBar()
    height = pane.view.viewport().height()
    _settled(qtbot, pane)
    steps = 0
    while bar.value() > 0 and steps < 12:
        bar.setValue(bar.value() - height // 2)  # the user scrolls up half a screen
        assert _build_count_of_a_paint(pane) == 0, f"a paint laid rows out at step {steps}"
        _settled(qtbot, pane)
        steps += 1
    assert steps >= 3  # the scroll crossed rows whose documents were dropped and built again
    assert pane.warmer.documents_warmed > 0
    assert len(pane.delegate._docs) <= 40  # the cache's limit holds


def test_rows_ahead_are_those_in_the_direction_of_the_scroll(qtbot, pane) -> None:
    bar = pane.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    _settled(qtbot, pane)
    visible = _visible_rows(pane)
    bar.setValue(bar.value() - 5)  # up
    _settled(qtbot, pane)
    assert pane.warmer.direction == -1
    order = list(pane.warmer.rows_to_warm())
    visible = _visible_rows(pane)
    assert order[: len(visible)] == list(visible)
    ahead = order[len(visible)]
    assert ahead == visible[0] - 1
    bar.setValue(bar.value() + 5)  # down
    assert pane.warmer.direction == 1
    order = list(pane.warmer.rows_to_warm())
    visible = _visible_rows(pane)
    assert order[len(visible)] == visible[-1] + 1
    # Ahead reaches a few screens; behind less.
    above = [n for n in order if n < visible[0]]
    below = [n for n in order if n > visible[-1]]
    assert len(below) > len(above) > 0
    reach = pane.view.visualRect(pane.model.index(below[-1], 0)).top()
    assert reach < (1 + AHEAD_SCREENS) * pane.view.viewport().height()


def test_rows_warmed_are_never_more_than_half_the_cache(qtbot, pane, monkeypatch) -> None:
    monkeypatch.setattr(message_delegate, "DOC_CACHE_SIZE", 6)
    _settled(qtbot, pane)
    assert len(list(pane.warmer.rows_to_warm())) <= 3
    assert len(pane.delegate._docs) <= 6


def test_a_width_change_lays_the_rows_out_again(qtbot, pane) -> None:
    delegate = pane.delegate
    qtbot.waitUntil(lambda: delegate._width == pane.view.viewport().width(), timeout=3000)
    _settled(qtbot, pane)
    rows = [pane.model.row_at(n) for n in _visible_rows(pane)]
    wide = {row.key: delegate.document(row).textWidth() for row in rows if row.kind == AI}
    assert wide
    pane.resize(420, 600)
    qtbot.waitUntil(lambda: delegate._width == pane.view.viewport().width(), timeout=3000)
    _settled(qtbot, pane)
    assert _build_count_of_a_paint(pane) == 0  # the warmer built the narrower rows too
    narrower = 0
    for number in _visible_rows(pane):
        row = pane.model.row_at(number)
        assert delegate.has_document(row)
        if row.key in wide:
            assert delegate.document(row).textWidth() < wide[row.key]
            narrower += 1
        state = MessageListModel.state_text(row)
        assert pane.view.visualRect(pane.model.index(number, 0)).height() == delegate.row_height(row, state)
    assert narrower


def test_a_chat_switch_warms_the_new_chat_from_its_end(qtbot, pane, chat, tmp_path) -> None:
    bar = pane.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    bar.setValue(bar.maximum())  # last move down
    assert pane.warmer.direction == 1
    with qtbot.waitSignal(pane.sig_messages_shown, timeout=10_000):
        pane.show_chat("", "")
        pane.show_chat(chat[1], "Long chat")
    assert pane.warmer.direction == -1
    _settled(qtbot, pane)
    above = _visible_rows(pane)[0] - 1
    assert above >= 0 and pane.delegate.has_document(pane.model.row_at(above))


def _message_list(
    qtbot,
    views: list,
    total: int,
    *,
    defer_heights: bool = True,
    more_newer: bool = False,
    height: int | None = 500,
    shown: bool = False,
):
    """A message list of ``views`` in a chat of ``total`` messages (``more_newer``: the
    rows stop short of its end); ``defer_heights`` as the pane has them; ``height`` None:
    not sized, not fitted to a width."""
    from galileio_desktop.ui.conversation.message_delegate import MessageDelegate
    from galileio_desktop.ui.conversation.message_view import MessageListView

    model = MessageListModel()
    model.set_chat("c", views, total, more_newer=more_newer)
    view = MessageListView()
    qtbot.addWidget(view)
    delegate = MessageDelegate(view)
    delegate.defer_heights = defer_heights
    view.setModel(model)
    view.setItemDelegate(delegate)
    delegate.set_style(view.font(), view.palette())
    if height is None:
        return view, delegate
    view.resize(700, height)
    if shown:
        view.show()
        qtbot.waitExposed(view)
    view.sync_width()
    return view, delegate


def _tall_rows_view(qtbot):
    """A message list of tall answers (many paragraphs, a table, code), on screen."""
    from ui_helpers import message_view

    paragraph = "A sentence of the answer that runs on for a while [1], then on a little more. " * 4
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
    text = "\n\n".join(["## Heading", *[paragraph] * 6, table, "```sql\nselect 1;\n```", paragraph])
    views = [message_view("c", "ai", text, 1000 + n, sources=2) for n in range(6)]
    view, _ = _message_list(qtbot, views, 6, defer_heights=False, shown=True)
    view.doItemsLayout()
    view.verticalScrollBar().setValue(300)
    return view


def test_a_partial_repaint_draws_what_a_full_one_draws_there(qtbot) -> None:
    """A scroll repaints the strip it uncovers, and a tall row draws only the blocks of
    its text there: the strip's pixels are those of the whole view painted at once."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtGui import QImage, QRegion

    view = _tall_rows_view(qtbot)
    viewport = view.viewport()
    size = viewport.size()
    assert view.visualRect(view.model().index(0, 0)).height() > size.height()  # a row taller than the view

    def render(region: QRegion | None) -> QImage:
        image = QImage(size, QImage.Format.Format_ARGB32)
        image.fill(0)
        if region is None:
            viewport.render(image, QPoint())
        else:  # the region's corner goes where it is in the view
            viewport.render(image, region.boundingRect().topLeft(), region)
        return image

    whole = render(None)
    drawn = []
    for top in (0, size.height() // 3, size.height() - 40):
        strip = QRect(0, top, size.width(), 37)
        part = render(QRegion(strip))
        inside = strip.adjusted(0, 5, 0, -5)  # (antialiased edges drawn from outside differ)
        assert _differing(part, whole, inside) == 0, f"the strip at {top} differs"
        drawn.append(_differing(part, QImage(size, QImage.Format.Format_ARGB32), inside))
    assert all(drawn)


def _differing(a, b, rect) -> int:
    """Pixels of ``rect`` whose colours differ by more than antialiasing's rounding."""
    count = 0
    for y in range(rect.top(), rect.bottom() + 1):
        for x in range(rect.left(), rect.right() + 1):
            pa, pb = a.pixel(x, y), b.pixel(x, y)
            if pa != pb and max(abs((pa >> s & 255) - (pb >> s & 255)) for s in (0, 8, 16)) > 16:
                count += 1
    return count


def test_a_long_answer_is_laid_out_over_several_turns(qtbot) -> None:
    """With no time left in a turn, each call to warm does one step: a long answer with a
    table and code takes several, and comes out as a whole build would make it."""
    view = _tall_rows_view(qtbot)
    delegate = view.message_delegate()
    model = view.model()
    delegate.clear_caches()
    built = delegate.documents_built
    row = model.row_at(2)
    calls = 1
    while delegate.warm(row, "", deadline=0.0) is None:
        calls += 1
        assert not delegate.has_document(row)
        assert calls < 20
    assert calls >= 4  # the Markdown, the code, the table, the layout
    assert delegate.has_document(row)
    stepped = delegate.document(row)
    assert delegate.documents_built == built + 1
    whole = MessageDelegate_document_built_whole(delegate, row)
    assert stepped.toPlainText() == whole.toPlainText()
    assert stepped.size() == whole.size()


def MessageDelegate_document_built_whole(delegate, row):  # noqa: N802 - reads as what it is
    delegate.clear_caches()
    return delegate.document(row)


def test_a_row_painted_half_built_is_built_once_and_its_steps_let_go(qtbot) -> None:
    view = _tall_rows_view(qtbot)
    delegate = view.message_delegate()
    model = view.model()
    delegate.clear_caches()
    built = delegate.documents_built
    row, other = model.row_at(1), model.row_at(3)
    assert delegate.warm(row, "", deadline=0.0) is None  # half built
    painted = delegate.document(row)  # a paint needs it now: built whole
    assert delegate.documents_built == built + 1
    assert delegate.warm(row, "", deadline=0.0) is not None  # nothing left to do
    assert delegate._warming is None  # its steps let go
    assert delegate.document(row) is painted and delegate.documents_built == built + 1
    assert delegate.warm(other, "", deadline=0.0) is None
    assert delegate._warming is not None
    delegate.clear_caches()  # (a theme change): the half-built row goes too
    assert delegate._warming is None and not delegate.has_document(row)


def _answers_view(qtbot, count: int, *, more_newer: bool):
    """A message list of ``count`` short answers, reaching the chat's end or
    (``more_newer``) stopping short of it."""
    from ui_helpers import message_view

    views = [message_view("c", "ai", f"Answer {n}, with `code` in it.", 1000 + n) for n in range(count)]
    return _message_list(qtbot, views, count + (5 if more_newer else 0), more_newer=more_newer)


def test_a_layout_short_of_the_chats_end_measures_no_row(qtbot) -> None:
    """At the chat's end its newest rows are measured when the view asks (they are on
    screen as it opens). Scrolled far up, with the newest rows dropped, the last rows held
    are far below the screen: a layout (an older page going in) estimates every row and
    builds no document."""
    at_end, at_end_delegate = _answers_view(qtbot, 40, more_newer=False)
    at_end.doItemsLayout()
    assert 0 < at_end_delegate.documents_built <= message_delegate.EXACT_TAIL_ROWS
    short, short_delegate = _answers_view(qtbot, 40, more_newer=True)
    short.doItemsLayout()
    assert short_delegate.documents_built == 0
    assert short_delegate.has_pending()  # the warmer measures them later
    assert short.visualRect(short.model().index(39, 0)).height() > 0


def _warmer_over_tables(qtbot, count: int = 40):
    """A warmer over ``count`` answers with tables (their estimates are well off), heights
    deferred as the pane has them, the view at its end; its layouts are counted."""
    from ui_helpers import message_view

    from galileio_desktop.ui.conversation.row_warmer import RowWarmer

    table = "| name | value |\n|---|---|\n" + "".join(f"| row {n} | {n * 7} |\n" for n in range(8))
    views = [message_view("c", "ai", f"Answer {n}.\n\n{table}", 1000 + n) for n in range(count)]
    view, delegate = _message_list(qtbot, views, count, height=400, shown=True)
    model = view.model()
    view.doItemsLayout()
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum())
    layouts: list[int] = []

    def relayout(_anchor) -> None:
        layouts.append(bar.value())
        view.doItemsLayout()

    warmer = RowWarmer(view, model, delegate, lambda: ("", 0), relayout, view)
    return view, delegate, warmer, layouts


def test_rows_measured_far_from_the_viewport_wait_for_one_layout(qtbot) -> None:
    """Every row given an estimate is measured, but only rows near the viewport make the
    view lay out again at once: the others wait until a scroll brings them near, and one
    layout then takes them all in."""
    view, delegate, warmer, layouts = _warmer_over_tables(qtbot)
    warmer.start()
    qtbot.waitUntil(lambda: not warmer.is_active(), timeout=10_000)
    assert not delegate.has_pending() and warmer.documents_warmed >= 20
    # The rows within a screen of the viewport, over a turn or two; without waiting, one
    # layout a turn that measured a row: fifteen.
    assert len(layouts) <= 4
    bar = view.verticalScrollBar()
    top = view.model().index(0, 0)
    assert view.visualRect(top).height() != view.visualRect(view.model().index(1, 0)).top()  # an estimate
    bar.setValue(0)
    warmer.scrolled(0)
    qtbot.waitUntil(lambda: not warmer.is_active(), timeout=10_000)
    assert len(layouts) <= 6
    assert (
        view.visualRect(view.model().index(1, 0)).top() - view.visualRect(top).top()
        == view.visualRect(top).height()
    )  # laid out at its measured height


def test_a_warming_turn_due_as_the_view_scrolls_waits_for_its_paint(qtbot, monkeypatch) -> None:
    """A scroll asks for a paint, handled in the next pass of the event loop: the warming
    turn that falls due in this one is left out, so the two do not hold the window together."""
    from galileio_desktop.ui.conversation import row_warmer

    monkeypatch.setattr(row_warmer, "WARM_BUDGET_S", 1.0)  # a turn finishes a row, however slow
    view, delegate, warmer, _ = _warmer_over_tables(qtbot)
    bar = view.verticalScrollBar()
    bar.setValue(bar.value() - 200)
    warmer.scrolled(bar.value())
    warmer._on_timer_timeout()  # the turn due in the same pass as the scroll
    assert warmer.documents_warmed == 0
    warmer._on_timer_timeout()  # the next, after the paint
    assert warmer.documents_warmed > 0


def test_a_warming_turn_asked_for_before_a_paint_comes_after_the_timers_due_by_its_end(
    qtbot, monkeypatch
) -> None:
    """A turn is armed once the paints already asked for are done: a timer that falls due
    during the paint (a frame's) runs first. A 0 ms timer started at once was due before
    the paint began: the paint, then the turn, held the window in one go."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    view, _, warmer, _ = _warmer_over_tables(qtbot)
    qtbot.wait(100)  # the set-up's layouts and paints done
    order: list[str] = []
    frame = QTimer(view)
    frame.setSingleShot(True)
    frame.setInterval(0)
    frame.timeout.connect(lambda: order.append("timer"))

    class Paints(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Paint and "paint" not in order:
                order.append("paint")
                frame.start()  # falls due during the paint
            return False

    paints = Paints(view)
    view.viewport().installEventFilter(paints)
    monkeypatch.setattr(warmer, "_warm_some", lambda deadline: order.append("turn") or False)
    view.viewport().update()
    warmer.start()
    qtbot.waitUntil(lambda: len(order) == 3, timeout=5_000)
    assert order == ["paint", "timer", "turn"]


def test_long_code_and_wide_tables_are_built_in_small_steps(qtbot, monkeypatch) -> None:
    """The colouring of a long code block is cut into steps (a few milliseconds of lexing
    would be one turn), as is the measuring of each table's columns; what comes out is
    what a build in one go makes."""
    from ui_helpers import message_view

    from galileio_desktop.ui.conversation import code_highlight

    monkeypatch.setattr(code_highlight, "STEP_SECONDS", 0.0)  # a step ends at each look
    code = "\n".join(f"def f{n}(rows):\n    return [r * {n} for r in rows if r > {n}]" for n in range(40))
    tables = "\n\n".join("| a | b | c |\n|---|---|---|\n| 1 | 2 | 3 |" for _ in range(3))
    text = f"Code:\n\n```python\n{code}\n```\n\n{tables}"
    view, delegate = _message_list(
        qtbot, [message_view("c", "ai", text, 1000)], 1, defer_heights=False, height=None
    )
    model = view.model()
    row = model.row_at(0)
    calls = 1
    while delegate.warm(row, "", deadline=0.0) is None:
        calls += 1
        assert calls < 500
    # The Markdown, 10+ steps of colours, 3 tables, the layout (the build in one step
    # each made 5).
    assert calls >= 15
    stepped = delegate.document(row).toHtml()
    delegate.clear_caches()
    assert delegate.document(row).toHtml() == stepped
    assert "color:" in stepped  # coloured
