"""A command's deadline: its network work ends within ``--timeout`` seconds, whatever
the server does (silent, dripping a byte a second, reset mid-body).

The library's cancel token does the work (it stops requests in flight and refuses new
ones, see :mod:`..data.dynamo.cancellation`); what the command then does is what it does
offline. As a last resort, should anything outside the token's reach still hang (a
sign-in renewal, a bug), the process says so in one line and ends with exit code 3 a
few seconds after the deadline: everything it had written is committed or rolled back
by SQLite, and queued changes are sent at the next sync.
"""

from __future__ import annotations

import os
import threading
from typing import TextIO

from ..data.dynamo.cancellation import CancelToken

DEFAULT_TIMEOUT_S = 30.0
#: How long after the deadline the last resort waits for the command to finish by itself.
HARD_STOP_GRACE_S = 10.0
HARD_STOP_EXIT_CODE = 3


class CommandDeadline:
    """Arms the deadline on the tokens of the network work a command starts."""

    def __init__(self, seconds: float, stderr: TextIO, *, hard_stop: bool = False) -> None:
        self.seconds = seconds
        self._stderr = stderr
        self._hard_stop = hard_stop
        self._timer: threading.Timer | None = None
        self._tokens: list[CancelToken] = []

    def watch(self, token: CancelToken) -> None:
        """Start the deadline for ``token`` (and the last resort, once)."""
        self._tokens.append(token)
        token.start_deadline(self.seconds)
        if self._hard_stop and self._timer is None:
            self._timer = threading.Timer(self.seconds + HARD_STOP_GRACE_S, self._stop_hard)
            self._timer.daemon = True
            self._timer.start()

    def pause(self) -> None:
        """Stop counting (while the user types, or an assistant streams an answer)."""
        for token in self._tokens:
            token.close()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def restart(self) -> None:
        """Count again from now, for the network work still to come."""
        tokens, self._tokens = self._tokens, []
        for token in tokens:
            if not token.cancelled:
                self.watch(token)

    def close(self) -> None:
        self.pause()
        self._tokens.clear()

    def _stop_hard(self) -> None:
        try:
            self._stderr.write(
                f"galileio-desktop: no answer within {self.seconds:g} s (see --timeout); stopped. "
                "Queued changes are kept and sent at the next sync.\n"
            )
            self._stderr.flush()
        finally:
            os._exit(HARD_STOP_EXIT_CODE)
