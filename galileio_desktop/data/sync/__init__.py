"""The sync engine and the library facade the CLI and the window use."""

from __future__ import annotations

from ..mirror import SearchHit, mirror_path_for
from .library import ChatLibrary
from .views import ChatView, LibraryStatus, MessageView, OpInfo, PullResult, PushResult, SyncResult

__all__ = [
    "ChatLibrary",
    "ChatView",
    "LibraryStatus",
    "MessageView",
    "OpInfo",
    "PullResult",
    "PushResult",
    "SearchHit",
    "SyncResult",
    "mirror_path_for",
]
