"""The worker that does the network work of the library: push, pull, sync, fetching a chat.

A :class:`~.worker.Worker` with its own library object on its own thread; it is
the only place boto3 is used for DynamoDB. It syncs on a timer (sooner after a
write, backing off while offline) and reports connectivity with every status.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer, Signal, Slot

from ..data.errors import EndpointUnreachable, GalileioError, SyncBusy, Throttled
from .worker import PAGE_SIZE, LibraryFactory, Worker, WorkerStatus

log = logging.getLogger(__name__)

DEFAULT_SYNC_INTERVAL_MS = 60_000
#: Another process (the command line, a second window) is sending this account's changes:
#: try again this soon, without calling the connection lost.
BUSY_RETRY_MS = 5_000
OFFLINE_RETRY_MS = (5_000, 10_000, 20_000, 40_000, 60_000)


class SyncWorker(Worker):
    """Syncs the library; see the module docstring.

    Signals (besides :class:`Worker`'s):
        sig_sync_progress(what, done, total), sig_sync_done(request_id, result),
        sig_status_changed(WorkerStatus).
    """

    sig_sync_progress = Signal(str, int, int)
    """(what, done, total) during long work."""
    sig_sync_done = Signal(int, object)
    """(request id, or 0 for a timed sync; the SyncResult, or None when it failed)."""
    sig_status_changed = Signal(object)
    """A new WorkerStatus: connectivity, syncing, the outbox."""

    def __init__(
        self,
        library_factory: LibraryFactory,
        *,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        periodic: bool = True,
        name: str = "sync worker",
    ) -> None:
        super().__init__(library_factory, name=name)
        self._interval_ms = sync_interval_ms
        self._periodic = periodic
        self._timer: QTimer | None = None
        self._online: bool | None = None
        self._syncing = False
        self._error: str | None = None
        self._offline_attempts = 0
        self._networked = True

    def _after_start(self) -> None:
        self._networked = getattr(self._library, "networked", True) is not False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._emit_status()
        if self._periodic:
            self._timer.start(0)

    def _before_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    # -- requests -------------------------------------------------------------------------

    @Slot(int)
    def sync_now(self, request_id: int) -> None:
        self._sync(request_id)

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

    @Slot(int, str)
    def open_chat(self, request_id: int, chat_id: str) -> None:
        """Fetch a chat's messages not yet in the mirror (the newest page is shown as soon as
        it is in, when older ones follow), then report the newest page (always, so the pane
        knows the chat is as complete as it can be right now), then fetch the answers'
        sources the mirror lacks (the page is shown again when some arrived)."""
        try:
            self.library.open_chat(chat_id, on_first_page=self.sig_data_changed.emit)
        except (EndpointUnreachable, Throttled) as exc:
            self._set_offline(exc.message)  # what the mirror has is all there is for now
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
        self.load_messages(request_id, chat_id, PAGE_SIZE, None)
        if self._online is False or not self._networked:
            return  # the sync after the connection returns brings them (the chat was opened)
        try:
            changed = self.library.fetch_sources(chat_id)
        except GalileioError as exc:  # offline or refused: the next sync of this chat brings them
            log.info("sources not fetched yet: %s", exc.message)
        except Exception:  # noqa: BLE001 - a bug, but the chat is open and readable
            log.error("fetching sources failed", exc_info=True)
        else:
            if changed:
                self.sig_data_changed.emit()

    @Slot(int)
    def load_status(self, request_id: int) -> None:
        self._emit_status()

    # -- syncing --------------------------------------------------------------------------

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._sync(0)

    def _sync(self, request_id: int) -> None:
        if self._library is None:
            self.sig_sync_done.emit(request_id, None)
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
        except (EndpointUnreachable, Throttled) as exc:
            self._set_offline(exc.message, emit=False)
        except GalileioError as exc:
            self._error = exc.message
            self._fail(request_id, exc)
        except Exception as exc:  # noqa: BLE001
            self._fail(request_id, exc)
        else:
            if self._online is not True:
                log.info("online")
            self._online = True
            self._error = None
            self._offline_attempts = 0
        finally:
            self._syncing = False
        self.sig_sync_done.emit(request_id, result)
        if result is not None and (result.pull.changed or result.pull.removed or result.push.dropped):
            self.sig_data_changed.emit()
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
        self.sig_sync_progress.emit(what, int(done), int(total))

    def _set_offline(self, message: str, *, emit: bool = True) -> None:
        if self._online is not False:
            log.info("offline: %s", message)
        self._online = False
        self._error = message
        if emit:
            self._emit_status()

    def _emit_status(self) -> None:
        self.sig_status_changed.emit(
            WorkerStatus(self._online, self._syncing, self._library_status(), self._error, self._networked)
        )
