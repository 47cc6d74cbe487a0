"""Expected failures, each with a message a person understands and a CLI exit code.

Anything raised that is not a :class:`GalileioError` is a bug and is reported as one.
"""

from __future__ import annotations


class GalileioError(Exception):
    """An expected failure: no network, bad input, expired credentials and the like."""

    exit_code = 1
    #: True when trying again later may succeed (network, throttling).
    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(GalileioError):
    """The request is wrong as given; nothing was written."""

    exit_code = 2


class ItemTooLarge(InvalidInput):
    """An item would exceed DynamoDB's 400 KB item size."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(
            f"{what} is too large for DynamoDB: {size:,} bytes, the limit is {limit:,} bytes "
            f"({limit // 1024} KB) per item"
        )
        self.size = size
        self.limit = limit


class EndpointUnreachable(GalileioError):
    """The DynamoDB (or assistant) endpoint could not be reached."""

    exit_code = 3
    transient = True


class NotDynamoDB(EndpointUnreachable):
    """Something answered, but not as DynamoDB does: a captive portal's sign-in page, a
    proxy's block page, a truncated or corrupted body. Nothing is concluded from it."""


class Cancelled(EndpointUnreachable):
    """The network work was stopped on purpose (Quit, an account switch, a deadline)."""


class DeadlineExceeded(Cancelled):
    """The endpoint did not finish answering within the command's deadline."""


class DamagedInstallation(EndpointUnreachable):
    """A file of the app's own installation (one of botocore's model files) is corrupt or
    cannot be read, so no request can be made: the app is offline until it is reinstalled.
    Nothing local was touched; queued changes stay queued (trying again is harmless, and
    works as soon as the file is good again)."""

    exit_code = 7

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(
            f"Galileio Desktop's installation is damaged: {file} {problem}. "
            "Reinstall Galileio Desktop to sync again. Your chats on this computer are safe: "
            "changes not sent yet stay queued and are sent once it is repaired; reading and "
            "writing offline still work."
        )
        self.file = file


class SyncBusy(GalileioError):
    """Another process (a window, a command) is sending this account's changes right now."""

    exit_code = 3
    transient = True


class LocalStorageError(GalileioError):
    """The local copy could not be read or written: a full disk, an unwritable or
    unreadable folder. Whatever was being written was rolled back."""

    exit_code = 1


class Throttled(GalileioError):
    """DynamoDB asked us to slow down and the retries ran out."""

    exit_code = 3
    transient = True


class CredentialsError(GalileioError):
    """Credentials are missing, expired or not allowed to do this."""

    exit_code = 4


class NotFound(GalileioError):
    """The chat or message does not exist (or no longer does)."""

    exit_code = 5


class RemoteRejected(GalileioError):
    """DynamoDB refused the request for good (validation and the like)."""

    exit_code = 1


class ChangeRefused(GalileioError):
    """DynamoDB refused a queued change for good: it is kept (parked) until the user
    retries or discards it."""

    exit_code = 6


class PartitionViolation(GalileioError):
    """A request would touch another user's partition; it was refused before sending."""

    exit_code = 4
