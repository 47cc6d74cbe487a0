"""What the library's network work reports: a push's, a pull's and a sync's results
(and, from :mod:`.queue_status`, the status of the operations waiting to be sent).

Apart from :mod:`.views` so that reading the first chat list defines none of them: the
library imports this module when a push, a pull or a sync first needs it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import GalileioError
from .queue_status import LibraryStatus, OpInfo

__all__ = ["LibraryStatus", "OpInfo", "PullResult", "PushResult", "SyncResult"]


@dataclass(frozen=True)
class PushResult:
    pushed: int = 0
    parked: int = 0
    dropped: int = 0
    pending: int = 0
    error: str | None = None
    requests: int = 0
    busy: bool = False
    #: The network or throttling error that stopped the pass, if one did.
    failure: GalileioError | None = field(default=None, compare=False, repr=False)
    #: Chats created here that took the id the server made (the deployment's API): old -> new.
    moved_chats: dict[str, str] = field(default_factory=dict, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "parked": self.parked,
            "dropped": self.dropped,
            "pending": self.pending,
            "error": self.error,
            "requests": self.requests,
        }


@dataclass(frozen=True)
class PullResult:
    reconciled: bool = False
    changed: int = 0
    removed: int = 0
    requests: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "reconciled": self.reconciled,
            "changed": self.changed,
            "removed": self.removed,
            "requests": self.requests,
        }


@dataclass(frozen=True)
class SyncResult:
    push: PushResult
    pull: PullResult
    pending: int
    parked: int

    def as_json(self) -> dict[str, Any]:
        return {
            "push": self.push.as_json(),
            "pull": self.pull.as_json(),
            "pending": self.pending,
            "parked": self.parked,
        }
