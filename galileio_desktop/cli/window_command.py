"""Opening the window (no command given), on an account or on the embedded demo."""

from __future__ import annotations

from .context import Context


def open_window(ctx: Context) -> int:
    from ..desktop import launch

    return launch(ctx)
