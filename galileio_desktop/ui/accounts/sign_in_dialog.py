"""Add an account and sign in to it, or sign in again to one already added.

One dialog serves the first start, "Add account…", a switch to an account whose
sign-in is missing, and "sign in again" when renewal failed. Its first choice is
the organisation's Galileo website: the deployment's settings are read from the
website (on the sign-in thread) and shown, so the user types only a user name and
a password. An account file from an administrator ("Import account file…") does
the same without the website. It collects the
fields on the GUI thread, checks them, and hands the sign-in to a
:class:`~.sign_in_worker.SignInRunner` (Cognito SRP is network work). A new
account is saved only once its sign-in worked; the secret goes to the keyring
through the auth layer, never into the accounts file. When the user pool wants
a new password, the dialog asks for it and signs in again.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...data.auth.account_file import AccountFile, read_account_file
from ...data.auth.accounts import Account, AccountStore, unique_name
from ...data.auth.runtime_config import RuntimeConfig
from ...data.auth.sessions import AccountSession
from ...data.auth.web_address import website_root
from ...data.errors import GalileioError, InvalidInput
from .. import theme
from .sign_in_fields import (
    DEPLOYMENT_FIELDS,
    EXISTING_FIELDS,
    FIELDS,
    KIND_FIELDS,
    KINDS,
    SECRET_FIELDS,
    USER_FIELDS,
    WEBSITE,
    describe_account,
    field_label,
    field_named_in,
    in_window_words,
    invalid_field,
)
from .sign_in_worker import NEW_PASSWORD, NEW_PASSWORD_REFUSED, SignInRunner

log = logging.getLogger(__name__)

NEW_ACCOUNT = ""
"""The account box's item for adding an account."""


class SignInDialog(QDialog):
    """See the module docstring. After :attr:`sig_signed_in`, :attr:`account` and
    :attr:`session` hold the saved account and its session.

    Signals: sig_signed_in(Account, AccountSession).
    """

    sig_signed_in = Signal(object, object)
    """(the account as saved, its signed-in AccountSession)."""

    def __init__(
        self,
        store: AccountStore,
        runner: SignInRunner,
        *,
        account_name: str | None = None,
        reason: str = "",
        lock_account: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Attributes
        self._store = store
        self._runner = runner
        self._accounts = {account.name: account for account in store.list()}
        self._request = 0
        self._request_account: Account | None = None
        self._new_password_stage = False
        self._locked = lock_account
        #: The administrator's account file, once imported.
        self.imported: AccountFile | None = None
        #: The website's settings, and the address they were read from.
        self.found: RuntimeConfig | None = None
        self._found_for = ""
        self._lookup = 0
        self._lookup_for = ""
        self._sign_in_after_lookup = False
        self.file_dialog: QFileDialog | None = None
        self.account: Account | None = None
        self.session: AccountSession | None = None

        # Widgets
        self.heading = QLabel(self)
        self.reason_label = QLabel(reason, self)
        self.account_box = QComboBox(self)
        self.kind_box = QComboBox(self)
        self.summary_label = QLabel(self)
        self.fields: dict[str, QLineEdit] = {}
        self.form = QFormLayout()
        self.note_label = QLabel(
            "Passwords and secret keys are kept only in the system keyring, never in a file.", self
        )
        self.error_label = QLabel(self)
        self.busy = QProgressBar(self)
        self.buttons = QDialogButtonBox(self)
        self.sign_in_button = QPushButton("Sign in", self)
        self.import_button = QPushButton("Import account file…", self)
        self.cancel_button = QPushButton("Cancel", self)

        # Setup
        self.setWindowTitle("Sign in")
        self.setAccessibleName("Sign in")
        self.setMinimumWidth(480)
        self.heading.setAccessibleName("Heading")
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.heading.setFont(font)
        for label in (self.reason_label, self.summary_label, self.note_label, self.error_label):
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
        self.reason_label.setAccessibleName("Why")
        self.summary_label.setAccessibleName("Account details")
        self.note_label.setAccessibleName("Where secrets go")
        self.note_label.setStyleSheet(f"color: {theme.muted_text(self.palette()).name()};")
        self.error_label.setAccessibleName("Sign-in problem")
        self.error_label.setStyleSheet(f"color: {theme.error(self.palette()).name()};")
        self.error_label.hide()
        self.busy.setAccessibleName("Signing in")
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.hide()
        self.account_box.setAccessibleName("Account")
        for name in sorted(self._accounts):
            self.account_box.addItem(name, name)
        self.account_box.addItem("New account…", NEW_ACCOUNT)
        self.kind_box.setAccessibleName("Sign in with")
        for kind, kind_label in KINDS:
            self.kind_box.addItem(kind_label, kind)
        self.sign_in_button.setAccessibleName("Sign in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.setAutoDefault(True)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.import_button.setAccessibleName("Import account file")
        self.import_button.setToolTip("Add the account from a file your administrator gave you")
        self.import_button.setAutoDefault(False)
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.sign_in_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)

        # Layout
        self.form.addRow("Account", self.account_box)
        self.form.addRow("Sign in with", self.kind_box)
        self.form.addRow("", self.summary_label)
        for field, text, placeholder in FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(field)
            edit.setAccessibleName(text.removesuffix(" (optional)"))
            edit.setPlaceholderText(placeholder)
            if field in SECRET_FIELDS:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setInputMethodHints(
                    Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoAutoUppercase
                )
            self.fields[field] = edit
            self.form.addRow(text, edit)
        for row in range(self.form.rowCount()):
            label_item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field_item = self.form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            row_label = label_item.widget() if label_item is not None else None
            row_field = field_item.widget() if field_item is not None else None
            if isinstance(row_label, QLabel) and row_field is not None:
                row_label.setBuddy(row_field)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.reason_label)
        layout.addLayout(self.form)
        layout.addWidget(self.note_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)

        # Signals
        self.account_box.currentIndexChanged.connect(self._on_account_box_changed)
        self.kind_box.currentIndexChanged.connect(self._on_kind_box_changed)
        self.fields["user_pool_id"].textEdited.connect(self._on_user_pool_edited)
        self.fields["region"].textEdited.connect(self._on_region_edited)
        self.fields["website"].editingFinished.connect(self._on_website_editing_finished)
        self.sign_in_button.clicked.connect(self.submit)
        self.import_button.clicked.connect(self.choose_account_file)
        self.cancel_button.clicked.connect(self.reject)
        runner.sig_signed_in.connect(self._on_runner_signed_in)
        runner.sig_failed.connect(self._on_runner_failed)
        runner.sig_website_found.connect(self._on_runner_website_found)

        start = account_name if account_name in self._accounts else NEW_ACCOUNT
        self.account_box.setCurrentIndex(self.account_box.findData(start))
        self.account_box.setEnabled(not lock_account)
        if not self._accounts and start == NEW_ACCOUNT:
            self.fields["name"].setText("work")
        self.fields["website"].setInputMethodHints(
            Qt.InputMethodHint.ImhUrlCharactersOnly | Qt.InputMethodHint.ImhNoAutoUppercase
        )
        self._refresh()

    # -- state ----------------------------------------------------------------------------

    @property
    def existing(self) -> Account | None:
        """The stored account being signed in to, or None when adding a new one."""
        return self._accounts.get(str(self.account_box.currentData() or ""))

    @property
    def kind(self) -> str:
        """The sign-in kind: an account's auth kind, or :data:`WEBSITE`; an account file is Cognito."""
        existing = self.existing
        if existing is not None:
            return existing.auth
        return "cognito" if self.imported is not None else str(self.kind_box.currentData())

    @property
    def found_here(self) -> RuntimeConfig | None:
        """The website's settings, when they were read for the address in the field."""
        text = self._text("website")
        return self.found if self.found is not None and text and text == self._found_for else None

    @property
    def busy_now(self) -> bool:
        return self._request != 0

    def visible_fields(self) -> list[str]:
        """The fields shown for the current account, kind and stage, in order."""
        if self._new_password_stage:
            return ["new_password", "new_password_again"]
        existing = self.existing
        if existing is not None:
            return list(EXISTING_FIELDS.get(existing.auth, ()))
        if self.imported is not None:
            return list(USER_FIELDS)
        if self.kind == WEBSITE:
            return list(KIND_FIELDS[WEBSITE])
        return [*DEPLOYMENT_FIELDS, *KIND_FIELDS[self.kind]]

    def _refresh(self) -> None:
        existing = self.existing
        shown = set(self.visible_fields())
        adding = existing is None and not self._new_password_stage
        self.form.setRowVisible(self.account_box, bool(self._accounts) and not self._new_password_stage)
        self.form.setRowVisible(self.kind_box, adding and self.imported is None)
        for field, edit in self.fields.items():
            self.form.setRowVisible(edit, field in shown)
        self.reason_label.setVisible(bool(self.reason_label.text()) and not self._new_password_stage)
        self.import_button.setVisible(adding)
        summary = ""
        if self._new_password_stage:
            self.heading.setText("Choose a new password")
            self.sign_in_button.setText("Set password and sign in")
        elif existing is not None:
            self.heading.setText(f"Sign in to {existing.name}")
            summary = describe_account(existing)
            self.sign_in_button.setText("Sign in")
        elif self.imported is not None or self.kind == WEBSITE:
            self.heading.setText("Sign in to your organisation's Galileo")
            self.sign_in_button.setText("Sign in")
            found = self.found_here
            if self.imported is not None:
                summary = self.imported.describe()
            elif found is not None:
                summary = found.describe()
            elif self._lookup and self._lookup_for == self._text("website"):
                summary = "Looking up the website…"
        else:
            self.heading.setText("Add an account")
            self.sign_in_button.setText("Sign in")
        self.summary_label.setText(summary)
        self.form.setRowVisible(self.summary_label, bool(summary))
        self.adjustSize()

    def _first_field(self) -> QWidget:
        for field in self.visible_fields():
            edit = self.fields[field]
            if not edit.text():
                return edit
        fields = self.visible_fields()
        return self.fields[fields[0]] if fields else self.sign_in_button

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._first_field().setFocus(Qt.FocusReason.OtherFocusReason)

    def show_error(self, message: str, field: str | None = None) -> None:
        self.error_label.setText(message)
        self.error_label.setAccessibleDescription(message)
        self.error_label.setVisible(bool(message))
        if field is not None and field in self.fields:
            self.fields[field].setFocus(Qt.FocusReason.OtherFocusReason)
            self.fields[field].selectAll()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for widget in (self.account_box, self.kind_box, self.import_button, *self.fields.values()):
            widget.setEnabled(not busy)
        self.sign_in_button.setEnabled(not busy)
        self.account_box.setEnabled(not busy and not self._locked)

    # -- checking what was typed ------------------------------------------------------------

    def build_account(self) -> Account:
        """The account the fields describe; :class:`InvalidInput` (with ``.field``) when not valid."""
        existing = self.existing
        for field in self.visible_fields():
            if field.startswith("new_password"):
                continue
            if (
                not self._text(field)
                and field != "endpoint_url"
                and not (field == "region" and self.kind == "cognito")
            ):
                raise invalid_field(f"Enter the {field_label(field).lower()}.", field)
        if existing is not None:
            return existing
        try:
            if self.imported is not None:
                return self.imported.account(self._text("username"), taken=self._accounts)
            if self.kind == WEBSITE:
                return self._website_account()
        except InvalidInput as exc:
            message = in_window_words(exc.message)
            raise invalid_field(message, getattr(exc, "field", None) or field_named_in(message)) from None
        kind = self.kind
        region = self._text("region")
        if not region and kind == "cognito":
            region = self._text("user_pool_id").split("_", 1)[0]
        if not region:
            raise invalid_field("Enter the region.", "region")
        endpoint = self._text("endpoint_url")
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise invalid_field("The endpoint URL must start with http:// or https://.", "endpoint_url")
        name = self._text("name")
        if name in self._accounts:
            raise invalid_field(f"An account named {name} exists already; choose another name.", "name")
        values: dict[str, Any] = {
            field: self._text(field) or None
            for field in KIND_FIELDS[kind]
            if field in Account.__dataclass_fields__
        }
        account = Account(
            name=name,
            auth=kind,
            region=region,
            table=self._text("table"),
            endpoint_url=endpoint or None,
            **values,
        )
        try:
            return account.validate()
        except InvalidInput as exc:
            message = in_window_words(exc.message)
            raise invalid_field(message, field_named_in(message)) from None

    def _website_account(self) -> Account:
        found = self.found_here
        if found is None:
            raise invalid_field("The website has not been read yet.", "website")
        host = found.website.split("://", 1)[1].split(":", 1)[0].strip("/[]")
        label = "galileo" if host.replace(".", "").isdigit() or ":" in host else host.split(".", 1)[0]
        return found.account(unique_name(label, self._accounts), self._text("username"))

    def _text(self, field: str) -> str:
        text = self.fields[field].text()
        return text if field in SECRET_FIELDS else text.strip()

    # -- signing in -------------------------------------------------------------------------

    @Slot()
    def submit(self) -> None:
        """Check the fields and start signing in (Enter does this)."""
        if self.busy_now:
            return
        if self._needs_lookup():
            return
        try:
            account = self.build_account()
        except InvalidInput as exc:
            self.show_error(exc.message, getattr(exc, "field", None))
            return
        secret = None
        if account.auth == "cognito":
            secret = self._text("password")
        elif account.auth == "keys":
            secret = self._text("secret_key")
        new_password = None
        if self._new_password_stage:
            new_password = self._text("new_password")
            if not new_password:
                self.show_error("Enter a new password.", "new_password")
                return
            if new_password != self._text("new_password_again"):
                self.show_error("The two new passwords differ.", "new_password_again")
                return
        self.show_error("")
        self._set_busy(True)
        self._request_account = account
        self._request = self._runner.sign_in(account, secret, new_password)

    # -- the website and the account file ----------------------------------------------------

    def _needs_lookup(self) -> bool:
        """For a website sign-in whose settings are not read yet: check the fields typed,
        then read the website and sign in once it answers. True when that started (or failed)."""
        if self.existing is not None or self.imported is not None or self.kind != WEBSITE:
            return False
        if self.found_here is not None:
            return False
        for field in self.visible_fields():
            if not self._text(field):
                self.show_error(f"Enter the {field_label(field).lower()}.", field)
                return True
        if not self._look_up(self._text("website")):
            return True
        self.show_error("")
        self._sign_in_after_lookup = True
        self._set_busy(True)
        return True

    def _look_up(self, text: str) -> bool:
        """Start reading the website's settings (unless already under way for it); False when
        the address itself is not valid (the error is shown)."""
        try:
            website_root(text)
        except InvalidInput as exc:
            self.show_error(exc.message, "website")
            return False
        if not (self._lookup and self._lookup_for == text):
            if self._lookup:
                self._runner.abandon(self._lookup)
            self._lookup_for = text
            self._lookup = self._runner.look_up_website(text)
            self._refresh()
        return True

    @Slot()
    def _on_website_editing_finished(self) -> None:
        """Read the website as soon as its address is typed, to show what it is."""
        text = self._text("website")
        if text and self.kind == WEBSITE and text != self._found_for and not self.busy_now:
            if self._look_up(text):
                self.show_error("")

    @Slot(int, object)
    def _on_runner_website_found(self, request_id: int, config: RuntimeConfig) -> None:
        if request_id != self._lookup:
            return
        self._lookup = 0
        self.found, self._found_for = config, self._lookup_for
        self._refresh()
        if self._sign_in_after_lookup:
            self._sign_in_after_lookup = False
            self._set_busy(False)
            self.submit()

    def _on_lookup_failed(self, message: str) -> None:
        self._lookup = 0
        self.found, self._found_for = None, ""
        if self._sign_in_after_lookup:
            self._sign_in_after_lookup = False
            self._set_busy(False)
        self._refresh()
        self.show_error(message, "website")

    @Slot()
    def choose_account_file(self) -> None:
        """Ask for the account file (a Qt file dialog, so that it is the same everywhere)."""
        if self.file_dialog is not None:
            self.file_dialog.raise_()
            return
        dialog = QFileDialog(self, "Import account file")
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Account files (*.json)", "All files (*)"])
        dialog.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        dialog.fileSelected.connect(self.import_file)
        dialog.finished.connect(self._on_file_dialog_finished)
        self.file_dialog = dialog
        dialog.open()

    @Slot(int)
    def _on_file_dialog_finished(self, result: int) -> None:
        dialog, self.file_dialog = self.file_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot(str)
    def import_file(self, path: str) -> bool:
        """Take the deployment's settings from an account file; False (and the error shown) if
        it is not one. The user then types a user name and a password."""
        if self.busy_now:
            return False
        try:
            imported = read_account_file(path)
        except InvalidInput as exc:
            self.show_error(exc.message)
            return False
        if self.existing is not None:
            self.account_box.setCurrentIndex(self.account_box.findData(NEW_ACCOUNT))
        self.imported = imported
        self._new_password_stage = False
        self.show_error("")
        self._refresh()
        self._first_field().setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    # -- results ------------------------------------------------------------------------------

    @Slot(int, object)
    def _on_runner_signed_in(self, request_id: int, session: AccountSession) -> None:
        if request_id != self._request or self._request_account is None:
            return
        account, self._request, self._request_account = self._request_account, 0, None
        try:
            if account.name not in self._accounts:
                self._store.add(account)
            if account.auth == "cognito":
                account = self._store.remember_user_id(account.name, session.user_id)
            else:
                account = self._store.get(account.name)
        except GalileioError as exc:
            self._set_busy(False)
            self.show_error(exc.message)
            return
        for field in SECRET_FIELDS:
            self.fields[field].clear()
        self.account = account
        self.session = replace(session, account=account)
        log.info("signed in to account %s", account.name)
        self.sig_signed_in.emit(account, self.session)
        self.accept()

    @Slot(int, str, str)
    def _on_runner_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id and request_id == self._lookup:
            self._on_lookup_failed(message)
            return
        if request_id != self._request:
            return
        self._request, self._request_account = 0, None
        self._set_busy(False)
        if kind in (NEW_PASSWORD, NEW_PASSWORD_REFUSED):
            self._new_password_stage = True
            self._refresh()
            if kind == NEW_PASSWORD:
                self.fields["new_password"].clear()
                self.fields["new_password_again"].clear()
            self.show_error(message, "new_password")
            return
        field = (
            "password" if self.kind in ("cognito", WEBSITE) else "secret_key" if self.kind == "keys" else None
        )
        if self._new_password_stage:
            self._new_password_stage = False
            self._refresh()
        self.show_error(message, field if field in self.visible_fields() else None)

    def done(self, result: int) -> None:
        if self._lookup:
            self._runner.abandon(self._lookup)
            self._lookup = 0
        if self._request:
            existing = self._request_account is not None and self._request_account.name in self._accounts
            drop = None if existing or self._request_account is None else self._request_account.name
            self._runner.abandon(self._request, drop)
            self._request, self._request_account = 0, None
        if result != QDialog.DialogCode.Accepted:
            for field in SECRET_FIELDS:
                self.fields[field].clear()
        super().done(result)

    # -- slots ------------------------------------------------------------------------------

    @Slot(int)
    def _on_account_box_changed(self, index: int) -> None:
        self._new_password_stage = False
        self.show_error("")
        self._refresh()
        self._first_field().setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(int)
    def _on_kind_box_changed(self, index: int) -> None:
        self._new_password_stage = False
        self.show_error("")
        self._refresh()

    @Slot(str)
    def _on_user_pool_edited(self, text: str) -> None:
        """The region is part of the pool id: fill it in when it was left empty."""
        region = self.fields["region"]
        if "_" in text and (not region.text() or region.property("derived")):
            region.setText(text.split("_", 1)[0])
            region.setProperty("derived", True)

    @Slot(str)
    def _on_region_edited(self, text: str) -> None:
        self.fields["region"].setProperty("derived", False)
