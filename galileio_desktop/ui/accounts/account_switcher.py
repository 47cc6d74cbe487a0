"""Which account the window shows, and every way to change it: sign in, switch, add, sign out.

Each account gets a window of its own making: switching closes the current
window (its worker threads finish their call and stop, the mirror is closed)
and builds a new one on the other account's :class:`~..workspace.Workspace`,
with its own mirror, so nothing of one account ever shows in the other's
window. Layout and drafts live in the window settings of the workspace's config
folder (the same for every stored account, so the new window opens where the
old one was; the demo's throwaway folder for the demo).

With no account at all, a :class:`~.welcome_page.WelcomePage` stands in for the
window: the sign-in dialog opens over it, and it goes once an account's window shows.

Sign-in runs on the :class:`~.sign_in_worker.SignInRunner` thread, never the GUI
thread. When the sign-in of the account shown is missing or can no longer be
renewed, the workspace says so from the worker thread that found out, and the
window asks to sign in again; the outbox is in the mirror, so nothing queued is
lost: the new window on the same account sends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QPushButton

from ...data.auth.accounts import Account, AccountStore
from ...data.auth.secrets import SecretStore
from ...data.auth.sessions import AccountSession
from ...data.errors import CredentialsError, GalileioError
from ...data.paths import AppPaths, folder_problem, private_dir
from ...workspace import Workspace
from .. import qt_log
from ..app_identity import install_app_icon
from ..app_window import build_window, ensure_application, window_library_factory
from ..main_window import MainWindow
from ..workers.sync_worker import DEFAULT_SYNC_INTERVAL_MS
from .account_menu import AccountEntry, AccountMenu
from .account_settings_host import AccountSettingsHost
from .sign_in_dialog import SignInDialog
from .sign_in_worker import SignInRunner
from .sign_out_dialog import SignOutDialog
from .welcome_page import WelcomePage

log = logging.getLogger(__name__)

#: Kinds whose sign-in the user can renew by typing a secret.
TYPED_SECRET_KINDS = ("cognito", "keys")


class CredentialsNotice(QObject):
    """Carries "sign in again" from a worker thread to the GUI thread.

    Signals: sig_needed(generation, message).
    """

    sig_needed = Signal(int, str)
    """(the window generation that met it, the auth layer's message)."""

    def report(self, generation: int, exc: CredentialsError) -> None:
        """Called in a worker thread; the signal is queued to the GUI thread."""
        self.sig_needed.emit(generation, exc.message)


class AccountSwitcher(QObject):
    """See the module docstring. :attr:`window` is the window shown (None while there is none).

    Signals: sig_window_shown(MainWindow), sig_finished().
    """

    sig_window_shown = Signal(object)
    """A window is up and started on an account."""
    sig_finished = Signal()
    """Nothing is left to show: the user closed the window, or declined to sign in with none open."""

    def __init__(
        self,
        paths: AppPaths,
        secrets: SecretStore,
        *,
        offline: bool = False,
        sync_interval_ms: int = DEFAULT_SYNC_INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.store = AccountStore(paths.config_dir)
        self.secrets = secrets
        self.runner = SignInRunner(secrets, self)
        self.notice = CredentialsNotice(self)
        self._offline = offline
        self._sync_interval_ms = sync_interval_ms
        #: Accounts shown without being in the accounts file (the demo, flags and environment).
        self._unstored: dict[str, Workspace] = {}
        self.window: MainWindow | None = None
        self.workspace: Workspace | None = None
        self.menu: AccountMenu | None = None
        self.sign_in_button: QPushButton | None = None
        self.dialog: SignInDialog | None = None
        self.sign_out_dialog: SignOutDialog | None = None
        self.message_box: QMessageBox | None = None
        self.welcome: WelcomePage | None = None
        #: The welcome page's "Try the demo" was chosen: the caller opens the demo.
        self.demo_requested = False
        self.windows_shown = 0
        self._generation = 0
        self._asked_generation = -1
        self._closing_window = False
        self._keyring_warning_due = False
        self._keyring_warned = False
        self._sign_out: tuple[int, Workspace, bool] | None = None
        #: (account, secret kinds removed, local copy deleted) of the last sign-out.
        self.last_sign_out: tuple[str, list[str], bool] | None = None

        self.notice.sig_needed.connect(self._on_notice_needed)
        self.runner.sig_signed_out.connect(self._on_runner_signed_out)
        self.runner.sig_failed.connect(self._on_runner_failed)

    # -- opening accounts -----------------------------------------------------------------

    def start(self, workspace: Workspace | None) -> None:
        """Open ``workspace`` (signing in first when needed), or ask for a new account."""
        if workspace is None:
            self.add_account()
            return
        if not self._is_stored(workspace.account.name):
            self._unstored[workspace.account.name] = workspace
        self.open(workspace)

    def show_welcome(self) -> None:
        """No account yet: the welcome page, until an account's window replaces it."""
        install_app_icon()
        page = WelcomePage()
        page.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        page.sig_sign_in_requested.connect(self.add_account)
        page.sig_import_requested.connect(self.import_account_file)
        page.sig_demo_requested.connect(self._on_welcome_demo_requested)
        page.sig_closed.connect(self._on_welcome_closed)
        self.welcome = page
        page.show()

    @Slot()
    def import_account_file(self) -> None:
        """The sign-in dialog, asking first for the administrator's account file."""
        self._ask_sign_in(None)
        if self.dialog is not None:
            self.dialog.choose_account_file()

    @Slot()
    def _on_welcome_demo_requested(self) -> None:
        self.demo_requested = True
        self._close_welcome()
        self.sig_finished.emit()

    @Slot()
    def _on_welcome_closed(self) -> None:
        page, self.welcome = self.welcome, None
        if page is not None:
            page.deleteLater()
        if self.dialog is not None:
            self.dialog.reject()
        if self.window is None:
            self.sig_finished.emit()

    def _close_welcome(self) -> None:
        page, self.welcome = self.welcome, None
        if page is not None:
            page.closing_for_window = True
            page.close()
            page.deleteLater()

    def open(self, workspace: Workspace, session: AccountSession | None = None) -> None:
        """Show ``workspace``; when it needs a password or secret key, ask for it first."""
        workspace.secrets = self.secrets
        if session is not None:
            workspace.use_session(session)
        if workspace.needs_sign_in():
            self._ask_sign_in(workspace.account.name)
            return
        self._show(workspace)

    @Slot(str)
    def switch_to(self, name: str) -> None:
        """Show the account called ``name`` instead of the current one."""
        if self.workspace is not None and self.workspace.account.name == name:
            return
        workspace = self._unstored.get(name)
        if workspace is None:
            try:
                workspace = self._workspace_for(self.store.get(name))
            except GalileioError as exc:
                self._tell(exc.message)
                return
        self.open(workspace)

    @Slot()
    def add_account(self) -> None:
        self._ask_sign_in(None)

    @Slot()
    def sign_in_again(self, reason: str = "") -> None:
        """Sign in again to the account shown (its sign-in expired or was never made)."""
        if self.workspace is None:
            return
        self._ask_sign_in(self.workspace.account.name, reason=reason, lock=True)

    def entries(self) -> list[AccountEntry]:
        """The accounts for the menu: stored ones, then the demo and the like."""
        rows = [AccountEntry(account.name, account.auth) for account in self.store.list()]
        names = {row.name for row in rows}
        rows += [
            AccountEntry(name, ws.account.auth, stored=False)
            for name, ws in self._unstored.items()
            if name not in names
        ]
        return rows

    def _workspace_for(self, account: Account) -> Workspace:
        workspace = Workspace(account, self.paths, offline=self._offline)
        workspace.secrets = self.secrets
        return workspace

    def _is_stored(self, name: str) -> bool:
        try:
            return any(account.name == name for account in self.store.list())
        except GalileioError:
            return False

    # -- the sign-in dialog ---------------------------------------------------------------

    def _ask_sign_in(self, name: str | None, *, reason: str = "", lock: bool = False) -> None:
        if self.dialog is not None:
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        install_app_icon()
        try:
            dialog = SignInDialog(
                self.store,
                self.runner,
                account_name=name,
                reason=reason,
                lock_account=lock,
                parent=self.window if self.window is not None else self.welcome,
            )
        except GalileioError as exc:  # the accounts file cannot be read
            self._tell(exc.message)
            if self.window is None:
                self.sig_finished.emit()
            return
        # Closing the dialog is not closing the app: the switcher decides when it is done.
        dialog.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        dialog.finished.connect(self._on_dialog_finished)
        self.dialog = dialog
        dialog.open()

    @Slot(int)
    def _on_dialog_finished(self, result: int) -> None:
        dialog, self.dialog = self.dialog, None
        if dialog is None:
            return
        dialog.deleteLater()
        if result == SignInDialog.DialogCode.Accepted and dialog.account and dialog.session:
            account, session = dialog.account, dialog.session
            if account.auth in TYPED_SECRET_KINDS and not self.secrets.usable:
                self._keyring_warning_due = True
            self.open(self._workspace_for(account), session)
        elif self.window is None and self.welcome is None:
            self.sig_finished.emit()

    # -- windows --------------------------------------------------------------------------

    def _show(self, workspace: Workspace) -> None:
        """Close the current window (threads stopped, mirror closed), then open one on ``workspace``."""
        app = ensure_application(icon=False)  # the window sets it once its chat list is painted
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        try:
            if self.window is not None:
                self._close_window(self.window)
            self._generation += 1
            workspace.secrets = self.secrets
            workspace.on_credentials_error = partial(self.notice.report, self._generation)
            window = build_window(
                window_library_factory(workspace),
                workspace.make_assistant,
                workspace.label,
                private_dir(workspace.paths.config_dir / "window"),
                history_limit=workspace.history_limit,
                sync_interval_ms=self._sync_interval_ms,
                start=True,
            )
            self._furnish(window, workspace)
            self.window, self.workspace = window, workspace
            if self._is_stored(workspace.account.name):
                try:
                    self.store.use(workspace.account.name)
                except GalileioError as exc:
                    log.warning("could not remember the account in use: %s", exc)
            window.installEventFilter(self)
            window.show()
            self._close_welcome()
            self.windows_shown += 1
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)
        self._warn_about_keyring()
        self.sig_window_shown.emit(window)

    def _furnish(self, window: MainWindow, workspace: Workspace) -> None:
        """The account menu and the "Sign in…" button of one window."""
        window.set_region(workspace.account.region)
        menu = AccountMenu(self.entries, workspace.account.name, window)
        menu.sig_account_chosen.connect(self.switch_to)
        menu.sig_add_requested.connect(self.add_account)
        menu.sig_sign_in_requested.connect(self.sign_in_again)
        menu.sig_sign_out_requested.connect(self.sign_out)
        window.insert_menu(menu)
        button = QPushButton("Sign in…", window.status)
        button.setAccessibleName("Sign in again")
        button.setFlat(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.hide()
        button.clicked.connect(self._on_sign_in_button_clicked)
        window.status.addPermanentWidget(button)
        self.menu, self.sign_in_button = menu, button
        window.account_settings = AccountSettingsHost(self, workspace)

    def _close_window(self, window: MainWindow) -> None:
        """Save the layout and draft, stop the worker threads (quit, then wait), drop the window."""
        self._closing_window = True
        try:
            window.removeEventFilter(self)
            window.close()
            window.client.shutdown()
        finally:
            self._closing_window = False
        window.deleteLater()
        if window is self.window:
            self.window, self.workspace, self.menu, self.sign_in_button = None, None, None, None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and not self._closing_window:
            self.window, self.workspace, self.menu, self.sign_in_button = None, None, None, None
            self.sig_finished.emit()
        return False

    def shutdown(self) -> None:
        """Close what is open and stop the sign-in thread."""
        if self.dialog is not None:
            self.dialog.reject()
        self._close_welcome()
        if self.window is not None:
            self._close_window(self.window)
        self.runner.shutdown()

    # -- sign-in trouble --------------------------------------------------------------------

    @Slot(int, str)
    def _on_notice_needed(self, generation: int, message: str) -> None:
        if generation != self._generation or self.window is None or self.workspace is None:
            return  # from a window that is gone
        if self.sign_in_button is not None:
            self.sign_in_button.setToolTip(message)
            self.sign_in_button.show()
        self.window.status.showMessage(message, 15_000)
        if generation == self._asked_generation or self.dialog is not None:
            return
        self._asked_generation = generation
        account = self.workspace.account
        if account.auth in TYPED_SECRET_KINDS and self._is_stored(account.name):
            self.sign_in_again(message)
        else:
            self._tell(message, retry=True)

    @Slot()
    def _on_sign_in_button_clicked(self) -> None:
        if self.workspace is None:
            return
        account = self.workspace.account
        if account.auth in TYPED_SECRET_KINDS and self._is_stored(account.name):
            self.sign_in_again()
        else:
            self.reopen()

    @Slot()
    def reopen(self) -> None:
        """Open the account shown again with a fresh session (after ``aws sso login``, say)."""
        if self.workspace is None:
            return
        account = self.workspace.account
        fresh = self._unstored.get(account.name) if not self._is_stored(account.name) else None
        self.open(fresh if fresh is not None else self._workspace_for(account))

    def _tell(self, message: str, *, retry: bool = False) -> None:
        """A message box that does not block (the worker threads carry on)."""
        install_app_icon()
        box = QMessageBox(QMessageBox.Icon.Warning, "Galileio Desktop", message, parent=self.window)
        box.setAccessibleName("Sign-in message")
        box.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        if retry:
            again = box.addButton("Try again", QMessageBox.ButtonRole.AcceptRole)
            again.clicked.connect(self.reopen)
        box.addButton(QMessageBox.StandardButton.Close)
        self.message_box = box
        box.open()

    def _warn_about_keyring(self) -> None:
        """Once: a secret was stored, but only in memory, because no keyring is usable."""
        if not self._keyring_warning_due or self._keyring_warned or self.window is None:
            return
        warning = self.secrets.warning
        if not warning:
            return
        self._keyring_warned = True
        self._keyring_warning_due = False
        self.window.status.showMessage(warning, 60_000)
        box = QMessageBox(QMessageBox.Icon.Warning, "No keyring", warning, parent=self.window)
        box.setAccessibleName("Keyring warning")
        box.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        box.addButton(QMessageBox.StandardButton.Ok)
        self.message_box = box
        box.open()

    # -- removing the local copy ----------------------------------------------------------

    def remove_local_data(self, workspace: Workspace) -> None:
        """Close the window of ``workspace``, delete its local copy (the server is not
        touched), and open the account again on an empty copy that fills from the server."""
        if workspace is not self.workspace or self.window is None:
            return
        app = ensure_application()
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        try:
            self._close_window(self.window)
            problem = ""
            try:
                workspace.delete_mirror()
            except OSError as exc:
                log.warning("could not delete the local copy: %s", exc)
                problem = folder_problem(exc, Path(workspace.mirror_path).parent)
            self.open(workspace)
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)
        if problem:
            self._tell(f"The local copy could not be removed. {problem}")
        elif self.window is not None:
            self.window.status.showMessage(
                "This account's local data was removed. Your chats are read again from the server.", 15_000
            )

    # -- signing out ----------------------------------------------------------------------

    @Slot()
    def sign_out(self) -> None:
        """Ask first (saying what unsent changes become), then sign out."""
        window, workspace = self.window, self.workspace
        if window is None or workspace is None or not self._is_stored(workspace.account.name):
            return
        status = window.status.status
        library = status.library if status is not None else None
        unsent = (library.pending + library.parked) if library is not None else 0
        dialog = SignOutDialog(workspace.account.name, unsent, window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        dialog.finished.connect(self._on_sign_out_dialog_finished)
        self.sign_out_dialog = dialog
        dialog.open()

    @Slot(int)
    def _on_sign_out_dialog_finished(self, result: int) -> None:
        dialog, self.sign_out_dialog = self.sign_out_dialog, None
        if dialog is None:
            return
        dialog.deleteLater()
        if not dialog.confirmed or self.window is None or self.workspace is None:
            return
        # Nothing may use or renew the sign-in while its secrets go: stop the threads first.
        self.window.client.shutdown()
        self.window.setEnabled(False)
        self.window.status.showMessage("Signing out…")
        workspace = self.workspace
        request_id = self.runner.sign_out(workspace.account)
        self._sign_out = (request_id, workspace, dialog.delete_mirror)

    @Slot(int, object)
    def _on_runner_signed_out(self, request_id: int, removed: list[str]) -> None:
        if self._sign_out is None or self._sign_out[0] != request_id:
            return
        _, workspace, delete_mirror = self._sign_out
        self._sign_out = None
        self._finish_sign_out(workspace, list(removed), delete_mirror)

    @Slot(int, str, str)
    def _on_runner_failed(self, request_id: int, kind: str, message: str) -> None:
        if self._sign_out is None or self._sign_out[0] != request_id:
            return
        _, workspace, delete_mirror = self._sign_out
        self._sign_out = None
        # The keyring refused: say so, and still close the account (it is not usable signed in).
        log.warning("sign-out: %s", message)
        self._finish_sign_out(workspace, [], delete_mirror)
        self._tell(f"Signing out did not remove every secret: {message}")

    def _finish_sign_out(self, workspace: Workspace, removed: list[str], delete_mirror: bool) -> None:
        name = workspace.account.name
        app = ensure_application()
        quit_on_close = app.quitOnLastWindowClosed()
        app.setQuitOnLastWindowClosed(False)
        try:
            if self.window is not None:
                self._close_window(self.window)
            deleted = False
            if delete_mirror:
                try:
                    deleted = workspace.delete_mirror()
                except OSError as exc:
                    log.warning("could not delete the local copy: %s", exc)
            self.last_sign_out = (name, removed, deleted)
            reason = f"You have signed out of {name}."
            if deleted:
                reason += " Its local copy of your chats was deleted."
            self._ask_sign_in(name if self._is_stored(name) else None, reason=reason)
        finally:
            app.setQuitOnLastWindowClosed(quit_on_close)


def run_accounts(
    paths: AppPaths,
    workspace: Workspace | None,
    *,
    secrets: SecretStore | None = None,
    offline: bool = False,
    on_window: Callable[[MainWindow], object] | None = None,
) -> tuple[int, bool]:
    """Run the app on ``workspace`` (or, None, on a new account) until the user is done.

    ``on_window`` is given each window as it shows (one per account opened). Returns
    (exit code, whether any window was shown).
    """
    switcher, code = _run_switcher(paths, secrets, offline, on_window, lambda s: s.start(workspace))
    return code, switcher.windows_shown > 0


def run_first_start(
    paths: AppPaths,
    *,
    secrets: SecretStore | None = None,
    offline: bool = False,
    on_window: Callable[[MainWindow], object] | None = None,
) -> int | None:
    """No account yet: the welcome page, then whatever the user chose, until they are done.

    Returns the exit code, or None when the user chose to try the demo (which the
    caller opens, on its own endpoint).
    """
    switcher, code = _run_switcher(paths, secrets, offline, on_window, AccountSwitcher.show_welcome)
    return None if switcher.demo_requested and not switcher.windows_shown else code


def _run_switcher(
    paths: AppPaths,
    secrets: SecretStore | None,
    offline: bool,
    on_window: Callable[[MainWindow], object] | None,
    begin: Callable[[AccountSwitcher], object],
) -> tuple[AccountSwitcher, int]:
    app = ensure_application(icon=False)  # the first window or dialog sets it
    qt_log.install()
    app.setQuitOnLastWindowClosed(False)
    switcher = AccountSwitcher(paths, secrets if secrets is not None else SecretStore(), offline=offline)
    switcher.sig_finished.connect(app.quit)
    if on_window is not None:
        switcher.sig_window_shown.connect(on_window)
    begin(switcher)
    try:
        shown = (switcher.window, switcher.dialog, switcher.welcome)
        code = app.exec() if any(part is not None for part in shown) else 0
    finally:
        switcher.shutdown()
        app.setQuitOnLastWindowClosed(True)
    return switcher, int(code)
