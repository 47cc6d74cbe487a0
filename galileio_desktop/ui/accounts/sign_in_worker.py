"""Signing in and out on a thread of their own, so the window never waits on Cognito.

Reading a Galileo website's settings (``runtime-config.json``) before a sign-in
is network work too, and runs there as well.

Cognito's SRP sign-in is several round trips, and revoking a refresh token at
sign-out is one more: the GUI thread never makes them. The dialogs collect the
password on the GUI thread and hand it to :class:`SignInRunner`, whose worker
calls the auth layer (:func:`~..data.auth.sessions.login`,
:func:`~..data.auth.sessions.open_session`, :func:`~..data.auth.sessions.logout`)
in its thread and answers with a signal carrying the request id.

A user pool that wants a new password at first sign-in cannot be answered in
the middle of the worker's call without blocking it on the GUI, so the first
attempt stops with :data:`NEW_PASSWORD` and the dialog signs in again with the
temporary password and the new one.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ...data.auth.cognito import UnsupportedChallenge
from ...data.auth.runtime_config import fetch_runtime_config
from ...data.auth.sessions import login, logout, open_session
from ...data.errors import CredentialsError, EndpointUnreachable, GalileioError, InvalidInput
from ..workers.op_worker import describe_failure
from ..workers.thread_stop import wait_or_let_go

if TYPE_CHECKING:
    from ...data.auth.accounts import Account
    from ...data.auth.secrets import SecretStore

log = logging.getLogger(__name__)

#: How long Quit waits for a sign-in call in progress.
SHUTDOWN_WAIT_MS = 1000

# Why a sign-in failed, so the dialog knows what to offer next.
NEW_PASSWORD = "new-password"
"""The user pool wants a new password chosen (first sign-in with a temporary one)."""
NEW_PASSWORD_REFUSED = "new-password-refused"
"""The new password breaks the pool's password policy."""
UNSUPPORTED = "unsupported"
"""A challenge the app cannot answer (MFA and the like): the message says what to do."""
OFFLINE = "offline"
CREDENTIALS = "credentials"
INVALID = "invalid"
ERROR = "error"
BUG = "bug"


class _NewPasswordNeeded(Exception):
    """Raised by the new-password callback when the user has not chosen one yet."""


class SignInWorker(QObject):
    """Runs sign-in and sign-out calls in its thread; see the module docstring.

    Signals: sig_signed_in(request_id, AccountSession), sig_failed(request_id, kind, message),
    sig_signed_out(request_id, kinds of secret removed), sig_website_found(request_id, RuntimeConfig).
    """

    sig_signed_in = Signal(int, object)
    """(request id, AccountSession) signed in; secrets are in the keyring."""
    sig_failed = Signal(int, str, str)
    """(request id, kind, message for the user)."""
    sig_signed_out = Signal(int, object)
    """(request id, list of the kinds of secret removed)."""
    sig_website_found = Signal(int, object)
    """(request id, the website's checked RuntimeConfig)."""

    def __init__(self, secrets: SecretStore) -> None:
        super().__init__()
        self._secrets = secrets

    @Slot(int, str)
    def look_up_website(self, request_id: int, address: str) -> None:
        """Read the deployment's settings from the website's ``runtime-config.json``."""
        try:
            config = fetch_runtime_config(address)
        except EndpointUnreachable as exc:
            self.sig_failed.emit(request_id, OFFLINE, exc.message)
        except GalileioError as exc:
            self.sig_failed.emit(request_id, INVALID, exc.message)
        except Exception as exc:  # noqa: BLE001 - shown to the user as a bug, the dialog stays up
            message, _ = describe_failure(exc)
            self.sig_failed.emit(request_id, BUG, message)
        else:
            self.sig_website_found.emit(request_id, config)

    @Slot(int, object, object, object)
    def sign_in(self, request_id: int, account: Account, secret: object, new_password: object) -> None:
        """Sign in with ``secret`` (password or secret access key), or with what is stored when None."""

        def choose_new_password() -> str:
            if isinstance(new_password, str) and new_password:
                return new_password
            raise _NewPasswordNeeded

        try:
            if isinstance(secret, str) and secret and account.auth in ("cognito", "keys"):
                session = login(account, self._secrets, secret, new_password_prompt=choose_new_password)
            else:
                session = open_session(account, self._secrets, new_password_prompt=choose_new_password)
        except _NewPasswordNeeded:
            self.sig_failed.emit(
                request_id, NEW_PASSWORD, "Your administrator asks you to choose a new password."
            )
        except UnsupportedChallenge as exc:
            self.sig_failed.emit(request_id, UNSUPPORTED, exc.message)
        except EndpointUnreachable as exc:
            self.sig_failed.emit(request_id, OFFLINE, exc.message)
        except CredentialsError as exc:
            self.sig_failed.emit(request_id, CREDENTIALS, exc.message)
        except InvalidInput as exc:
            kind = NEW_PASSWORD_REFUSED if new_password else INVALID
            self.sig_failed.emit(request_id, kind, exc.message)
        except GalileioError as exc:
            self.sig_failed.emit(request_id, ERROR, exc.message)
        except Exception as exc:  # noqa: BLE001 - shown to the user as a bug, the dialog stays up
            message, _ = describe_failure(exc)
            self.sig_failed.emit(request_id, BUG, message)
        else:
            self.sig_signed_in.emit(request_id, session)

    @Slot(int, object)
    def sign_out(self, request_id: int, account: Account) -> None:
        """Remove the account's secrets (revoking the refresh token first, best effort)."""
        try:
            removed = logout(account, self._secrets)
        except Exception as exc:  # noqa: BLE001 - reported; the caller decides what is next
            message, is_bug = describe_failure(exc)
            self.sig_failed.emit(request_id, BUG if is_bug else ERROR, message)
            return
        self.sig_signed_out.emit(request_id, removed)


class SignInRunner(QObject):
    """The GUI's handle on the sign-in thread: request methods return the request id.

    Signals (in the GUI thread): sig_signed_in, sig_failed, sig_signed_out,
    sig_website_found, as :class:`SignInWorker`'s.
    """

    sig_signed_in = Signal(int, object)
    """(request id, AccountSession)."""
    sig_failed = Signal(int, str, str)
    """(request id, kind, message)."""
    sig_signed_out = Signal(int, object)
    """(request id, list of the kinds of secret removed)."""
    sig_website_found = Signal(int, object)
    """(request id, RuntimeConfig)."""

    _sig_sign_in = Signal(int, object, object, object)
    _sig_sign_out = Signal(int, object)
    _sig_look_up = Signal(int, str)

    def __init__(self, secrets: SecretStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.secrets = secrets
        self._ids = itertools.count(1)
        self._thread: QThread | None = None
        #: Requests whose asker went away: request id -> account whose secrets to drop.
        self._abandoned: dict[int, str | None] = {}
        self.worker = SignInWorker(secrets)
        self._sig_sign_in.connect(self.worker.sign_in)
        self._sig_sign_out.connect(self.worker.sign_out)
        self._sig_look_up.connect(self.worker.look_up_website)
        self.worker.sig_website_found.connect(self._on_worker_website_found)
        self.worker.sig_signed_in.connect(self._on_worker_signed_in)
        self.worker.sig_failed.connect(self._on_worker_failed)
        self.worker.sig_signed_out.connect(self.sig_signed_out)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            thread = QThread(self)
            thread.setObjectName("galileio-sign-in")
            self.worker.moveToThread(thread)
            thread.start()
            self._thread = thread

    def sign_in(self, account: Account, secret: str | None = None, new_password: str | None = None) -> int:
        """Sign in to ``account`` off the GUI thread; the result comes by signal."""
        self._ensure_thread()
        request_id = next(self._ids)
        self._sig_sign_in.emit(request_id, account, secret, new_password)
        return request_id

    def sign_out(self, account: Account) -> int:
        self._ensure_thread()
        request_id = next(self._ids)
        self._sig_sign_out.emit(request_id, account)
        return request_id

    def look_up_website(self, address: str) -> int:
        """Read a website's Galileo settings off the GUI thread; the result comes by signal."""
        self._ensure_thread()
        request_id = next(self._ids)
        self._sig_look_up.emit(request_id, address)
        return request_id

    def abandon(self, request_id: int, drop_secrets_of: str | None = None) -> None:
        """Nobody waits for ``request_id`` any more (its dialog was cancelled). If it still
        signs in, the secrets it stored for ``drop_secrets_of`` (an account never saved) go."""
        self._abandoned[request_id] = drop_secrets_of

    @Slot(int, object)
    def _on_worker_signed_in(self, request_id: int, session: object) -> None:
        if request_id in self._abandoned:
            name = self._abandoned.pop(request_id)
            if name:
                removed = self.secrets.delete_all(name)
                log.info("a cancelled sign-in finished; %d secret(s) of it removed", len(removed))
            return
        self.sig_signed_in.emit(request_id, session)

    @Slot(int, object)
    def _on_worker_website_found(self, request_id: int, config: object) -> None:
        if request_id in self._abandoned:
            del self._abandoned[request_id]
            return
        self.sig_website_found.emit(request_id, config)

    @Slot(int, str, str)
    def _on_worker_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id in self._abandoned:
            del self._abandoned[request_id]
            return
        self.sig_failed.emit(request_id, kind, message)

    def shutdown(self) -> None:
        """End the thread after the call in progress, waiting for it a second at most
        (a sign-in server that does not answer must not hold Quit)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.quit()
            wait_or_let_go(thread, SHUTDOWN_WAIT_MS)
