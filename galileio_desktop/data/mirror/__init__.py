"""The local SQLite mirror of one account: confirmed remote items, the user's view of
them (remote state overlaid with pending operations), the outbox, sync state and a
full-text index. The sync engine (:mod:`..sync`) is its only writer of server facts.
"""

from __future__ import annotations

from .database import Mirror, MirrorOfAnotherAccount, mirror_path_for
from .migrations import SCHEMA_VERSION, MirrorTooNew
from .search import SearchHit

__all__ = [
    "SCHEMA_VERSION",
    "Mirror",
    "MirrorOfAnotherAccount",
    "MirrorTooNew",
    "SearchHit",
    "mirror_path_for",
]
