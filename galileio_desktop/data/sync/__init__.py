"""The sync engine and the library facade the CLI and the window use."""

from __future__ import annotations

from ..mirror import SearchHit, mirror_path_for
from .library import ChatLibrary
from .views import ChatView, MessageView

__all__ = [
    "ChatLibrary",
    "ChatView",
    "MessageView",
    "SearchHit",
    "mirror_path_for",
]
