"""What a citation ``[n]`` points at, shown when the mouse rests on it.

The sources of an answer are read from the mirror (an operation on the local
lane, never the network) the first time one of its citations is hovered, and
kept for the few answers hovered last. The tooltip names the document and shows
the first lines of the passage, as plain text cut to a few lines: passages are
written by anyone.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QToolTip, QWidget

from .. import bidi, links
from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.schema import Source
    from ..workers.client import WorkerClient

#: Answers whose sources are kept for tooltips.
CACHED_ANSWERS = 16
PREVIEW_LINES = 4
PREVIEW_CHARS = 320


def preview_text(number: int, source: Source) -> str:
    """ "[n] document" and the first lines of the passage, cut to fit a tooltip."""
    try:
        name = links.location_label(source.location) or "Unknown document"
    except ValueError:  # no URL Python can split ("http://[" is one): shown as written
        name = source.location
    lines = [line.strip() for line in source.page_content.splitlines() if line.strip()]
    passage = "\n".join(lines[:PREVIEW_LINES])
    if len(passage) > PREVIEW_CHARS:
        passage = passage[: PREVIEW_CHARS - 1].rstrip() + "…"
    elif len(lines) > PREVIEW_LINES:
        passage += " …"
    heading = f"[{number}] {bidi.one_line(name, 120)}"
    return f"{heading}\n{bidi.isolate(passage)}" if passage else heading


class CitationPreviews(QObject):
    """Loads and shows citation tooltips; see the module docstring."""

    def __init__(self, client: WorkerClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._client = client
        self._sources: OrderedDict[str, list[Source]] = OrderedDict()
        self._loading: LibraryOp[list[Source]] | None = None
        #: The last text shown (for tests: tooltips are hard to read back offscreen).
        self.last_text = ""

    def show(
        self, message_id: str, number: int, where: QPoint, widget: QWidget, still_wanted: Callable[[], bool]
    ) -> None:
        """Show the preview of source ``number`` of ``message_id`` at ``where`` (global);
        once the sources are read, only if ``still_wanted()`` (the mouse is still there)."""
        sources = self._sources.get(message_id)
        if sources is not None and number <= len(sources):  # fewer: more arrived since
            self._sources.move_to_end(message_id)
            self._show(sources, number, where, widget)
            return
        if self._loading is not None:
            self._loading.cancel()  # only the citation under the mouse now matters
        self._loading = (
            LibraryOp(lambda lib: lib.list_sources(message_id), name="citation sources")
            .success(functools.partial(self._on_loaded, message_id, number, where, widget, still_wanted))
            .failure(lambda _failure: None)  # a tooltip that does not come is no error
            .run_in(self._client.local)
        )

    def _on_loaded(
        self,
        message_id: str,
        number: int,
        where: QPoint,
        widget: QWidget,
        still_wanted: Callable[[], bool],
        sources: list[Source],
    ) -> None:
        self._loading = None
        self._sources[message_id] = sources
        while len(self._sources) > CACHED_ANSWERS:
            self._sources.popitem(last=False)
        if still_wanted():
            self._show(sources, number, where, widget)

    def _show(self, sources: list[Source], number: int, where: QPoint, widget: QWidget) -> None:
        if not 1 <= number <= len(sources):
            return
        self.last_text = preview_text(number, sources[number - 1])
        QToolTip.showText(where, self.last_text, widget)

    def forget(self, message_id: str) -> None:
        """The sources of ``message_id`` changed (they arrived, or the answer went)."""
        self._sources.pop(message_id, None)
