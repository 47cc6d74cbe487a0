"""The worker that does the library's network work: syncing on a timer, and the network
operations the window asks for (opening a chat the mirror lacks, its sources).

It works on the library the library worker opened (one connection writes the mirror);
boto3's clients are made in this thread, the only one that talks to DynamoDB. It syncs
on a timer (sooner after a write, backing off while offline) and reports connectivity
with every status.
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

from PySide6.QtCore import QTimer, Slot

from ...data.errors import DamagedInstallation, EndpointUnreachable, GalileioError, SyncBusy, Throttled
from .events import LibraryEvents
from .op_worker import OpWorker, describe_failure
from .operation import LibraryOp, OpFailure

log = logging.getLogger(__name__)

DEFAULT_SYNC_INTERVAL_MS = 60_000
OFFLINE_RETRY_MS = (5_000, 10_000, 20_000, 40_000, 60_000)
#: Another process (the command line, a second window) is sending this account's changes:
#: try again this soon, without calling the connection lost.
BUSY_RETRY_MS = 5_000


class WorkerStatus(NamedTuple):
    """What the status bar shows: connectivity, sync activity and the library's queue.

    (A named tuple: quicker to define than a dataclass, on the way to the first paint.)
    """

    #: None until the first sync attempt; then whether the endpoint answered.
    online: bool | None
    syncing: bool
    library: Any
    #: The last network error in words, when offline.
    error: str | None = None
    #: False when the library has no DynamoDB connection configured at all.
    networked: bool = True
    #: Offline because the app's installation is damaged, not the network: ``error``
    #: says what to do and what is safe meanwhile.
    damaged: bool = False


class SyncWorker(OpWorker):
    """Syncs the library and runs its network operations; see the module docstring."""

    def __init__(
        self,
        events: LibraryEvents,
        *,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        periodic: bool = True,
        name: str = "sync",
    ) -> None:
        super().__init__(events, name=name)
        self._interval_ms = sync_interval_ms
        self._periodic = periodic
        self._timer: QTimer | None = None
        self._online: bool | None = None
        self._syncing = False
        self._error: str | None = None
        #: The error is the installation's (see ``WorkerStatus.damaged``).
        self._damaged = False
        self._offline_attempts = 0
        self._networked = True

    def _open(self) -> None:
        self._networked = getattr(self._library, "networked", True) is not False

    def _after_start(self) -> None:
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._emit_status()
        if self._periodic:
            self._timer.start(0)

    def _before_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    @property
    def online(self) -> bool | None:
        return self._online

    # -- requests -------------------------------------------------------------------------

    @Slot()
    def sync_now(self) -> None:
        self._sync(asked=True)

    @Slot(int)
    def set_interval(self, interval_ms: int) -> None:
        """Sync every ``interval_ms`` from now on (the user's Settings); a wait already
        planned for longer is cut to the new interval."""
        self._interval_ms = max(1, int(interval_ms))
        timer = self._timer
        if timer is not None and self._periodic and self._online is not False and not self._syncing:
            if timer.isActive() and timer.remainingTime() > self._interval_ms:
                timer.start(self._interval_ms)

    @property
    def interval_ms(self) -> int:
        return self._interval_ms

    @Slot(int)
    def push_soon(self, delay_ms: int) -> None:
        """A write was made: sync within ``delay_ms`` unless one is planned sooner."""
        timer = self._timer
        if timer is None or not self._networked:
            return
        if self._online is False and delay_ms > 0:
            return  # offline: the backoff timer is already waiting for the connection
        if not timer.isActive() or timer.remainingTime() > delay_ms:
            timer.start(max(0, delay_ms))

    @Slot()
    def emit_status(self) -> None:
        self._emit_status()

    def _after_op(self, op: LibraryOp[Any], failure: OpFailure | None) -> None:
        """A network operation that met no network says the connection is gone."""
        error = failure.error if failure is not None else None
        if isinstance(error, (EndpointUnreachable, Throttled)) and not isinstance(error, SyncBusy):
            self._set_offline(error.message, damaged=isinstance(error, DamagedInstallation))

    # -- syncing --------------------------------------------------------------------------

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._sync()

    def _sync(self, *, asked: bool = False) -> None:
        if self._library is None:
            self._events.send(self._events.sig_sync_done, None)
            return
        self._syncing = True
        self._emit_status()
        result = None
        busy = False
        try:
            result = self.library.sync(progress=self._on_library_progress)
        except SyncBusy as exc:
            log.info("sync deferred: %s", exc.message)
            busy = True
        except DamagedInstallation as exc:
            # Offline until the file is good again: retried as offline is (a local read,
            # no request), said in the status bar when it starts and when the user asks.
            if asked or exc.message != self._error:
                self._events.send(self._events.sig_sync_failed, exc.message, False)
            self._set_offline(exc.message, emit=False, damaged=True)
        except (EndpointUnreachable, Throttled) as exc:
            self._set_offline(exc.message, emit=False)
        except Exception as exc:  # noqa: BLE001 - shown by the window's default failure display
            message, is_bug = describe_failure(exc)
            if isinstance(exc, GalileioError):
                self._error, self._damaged = message, False
            self._events.send(self._events.sig_sync_failed, message, is_bug)
        else:
            if self._online is not True:
                log.info("online")
            self._online = True
            self._error, self._damaged = None, False
            self._offline_attempts = 0
        finally:
            self._syncing = False
        self._events.send(self._events.sig_sync_done, result)
        if result is not None and (
            result.pull.changed or result.pull.removed or result.push.dropped or result.push.moved_chats
        ):
            self._events.send(self._events.sig_data_changed)
        self._emit_status()
        if self._timer is None or not self._periodic:
            return
        if busy:
            self._timer.start(BUSY_RETRY_MS)
        elif self._online is False:
            delay = OFFLINE_RETRY_MS[min(self._offline_attempts, len(OFFLINE_RETRY_MS) - 1)]
            self._offline_attempts += 1
            self._timer.start(delay)
        else:
            self._timer.start(self._interval_ms)

    def _on_library_progress(self, what: str, done: int, total: int) -> None:
        self._events.send(self._events.sig_sync_progress, what, int(done), int(total))

    def _set_offline(self, message: str, *, emit: bool = True, damaged: bool = False) -> None:
        if self._online is not False:
            log.info("offline: %s", message)
        self._online = False
        self._error, self._damaged = message, damaged
        if emit:
            self._emit_status()

    def _emit_status(self) -> None:
        self._events.send(
            self._events.sig_status_changed,
            WorkerStatus(
                self._online,
                self._syncing,
                self.library_status(),
                self._error,
                self._networked,
                self._damaged,
            ),
        )
