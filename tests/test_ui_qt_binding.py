"""The Qt binding must not lose references when a signal is emitted.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit()`` (the
return value is handed out without being counted). On Python before 3.12,
where ``True`` is not immortal, a window that emits a few thousand signals
(streaming one answer is enough) then aborts with "bool_dealloc". The project
excludes that release; this test tells anyone who installed it anyway.
"""

from __future__ import annotations

import sys

import PySide6
import pytest
from PySide6.QtCore import QObject, Signal

pytestmark = pytest.mark.gui


class _Emitter(QObject):
    sig_fired = Signal(int)
    """A probe signal."""


def test_emit_keeps_the_reference_count_of_true() -> None:
    emitter = _Emitter()
    before = sys.getrefcount(True)
    results = [emitter.sig_fired.emit(n) for n in range(100)]
    held = sum(1 for r in results if r is True)
    del results
    after = sys.getrefcount(True)
    assert after >= before, (
        f"PySide6 {PySide6.__version__} loses a reference to True on each Signal.emit() "
        f"({before - after} lost in 100 emits, {held} results held); use another release"
    )
