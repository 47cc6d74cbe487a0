"""Unsent composer text per chat, in a small private JSON file that survives restarts.

Written atomically (temporary file, then rename) and readable by the owner
only: a draft may hold anything the user typed.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "drafts.json"
MAX_DRAFTS = 500


class DraftStore:
    """chat id -> text; empty text removes the draft."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._drafts: dict[str, str] = {}
        self._dirty = False
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable drafts file %s: %s", self.path.name, exc)
            return
        drafts = data.get("drafts") if isinstance(data, dict) else None
        if isinstance(drafts, dict):
            self._drafts = {str(k): v for k, v in drafts.items() if isinstance(v, str) and v}

    def get(self, chat_id: str) -> str:
        return self._drafts.get(chat_id, "")

    def set(self, chat_id: str, text: str) -> None:
        if not chat_id:
            return
        if text.strip():
            if self._drafts.get(chat_id) != text:
                self._drafts.pop(chat_id, None)
                self._drafts[chat_id] = text  # most recent last, so trimming drops the oldest
                self._dirty = True
        elif chat_id in self._drafts:
            del self._drafts[chat_id]
            self._dirty = True
        while len(self._drafts) > MAX_DRAFTS:
            del self._drafts[next(iter(self._drafts))]

    def chats(self) -> list[str]:
        return list(self._drafts)

    def save(self) -> None:
        """Write the file if anything changed; failures are logged, never raised (drafts are a comfort)."""
        if not self._dirty:
            return
        try:
            from ...data.paths import private_dir  # platformdirs: not needed before the first save

            private_dir(self.path.parent)
            fd, tmp = tempfile.mkstemp(prefix=".drafts-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump({"version": SCHEMA_VERSION, "drafts": self._drafts}, handle, ensure_ascii=False)
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._dirty = False
        except OSError as exc:
            log.warning("could not save drafts: %s", exc)
