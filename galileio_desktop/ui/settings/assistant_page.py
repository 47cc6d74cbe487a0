"""Settings → Assistant: which assistant answers this account's questions, and its options.

Only the fields the chosen backend uses are shown. The API key of an OpenAI-compatible
server goes to the keyring: the field shows whether one is stored, never the key.
"""

from __future__ import annotations

import json
from dataclasses import replace

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...data.assistants.settings import (
    BACKENDS,
    BEDROCK,
    BEDROCK_KB,
    GALILEO,
    LOCAL_DOCS,
    OPENAI,
    AssistantSettings,
)
from ...data.errors import InvalidInput

BACKEND_LABELS = {
    GALILEO: "Galileo deployment (inference endpoint)",
    BEDROCK_KB: "Amazon Bedrock knowledge base",
    BEDROCK: "Amazon Bedrock model",
    OPENAI: "OpenAI-compatible server (Ollama, LM Studio…)",
    LOCAL_DOCS: "Local documents (offline)",
}
#: The backends each field is shown for.
FIELD_BACKENDS = {
    "url": (GALILEO, OPENAI, BEDROCK, BEDROCK_KB),
    "model": (BEDROCK, OPENAI),
    "knowledge_base_id": (BEDROCK_KB,),
    "model_arn": (BEDROCK_KB,),
    "region": (BEDROCK, BEDROCK_KB),
    "docs_dir": (LOCAL_DOCS,),
    "api_key": (OPENAI,),
}
URL_LABELS = {
    GALILEO: "Endpoint URL:",
    OPENAI: "Server URL:",
    BEDROCK: "Service endpoint (optional):",
    BEDROCK_KB: "Service endpoint (optional):",
}
MAX_HISTORY = 100


class AssistantPage(QWidget):
    """See the module docstring. :meth:`settings` reads the form (raising
    :class:`InvalidInput` with the reason); :meth:`api_key_change` says what to do with the key."""

    def __init__(self, settings: AssistantSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Attributes
        self._initial = settings
        self._has_key = False

        # Widgets
        self.backend_box = QComboBox(self)
        self.url_edit = QLineEdit(self)
        self.model_edit = QLineEdit(self)
        self.kb_edit = QLineEdit(self)
        self.model_arn_edit = QLineEdit(self)
        self.region_edit = QLineEdit(self)
        self.docs_edit = QLineEdit(self)
        self.docs_button = QPushButton("Choose…", self)
        self.api_key_edit = QLineEdit(self)
        self.forget_key_box = QCheckBox("Remove the stored key", self)
        self.history_box = QSpinBox(self)
        self.options_edit = QPlainTextEdit(self)
        docs_row = QWidget(self)
        self._form = QFormLayout(self)

        # Setup
        for backend in BACKENDS:
            self.backend_box.addItem(BACKEND_LABELS.get(backend, backend), backend)
        self.backend_box.setAccessibleName("Assistant")
        self.url_edit.setAccessibleName("Assistant URL")
        self.url_edit.setPlaceholderText("https://…")
        self.model_edit.setAccessibleName("Model")
        self.kb_edit.setAccessibleName("Knowledge base id")
        self.model_arn_edit.setAccessibleName("Model ARN or id")
        self.region_edit.setAccessibleName("Region")
        self.region_edit.setPlaceholderText("the account's region")
        self.docs_edit.setAccessibleName("Documents folder")
        self.docs_button.setAccessibleName("Choose the documents folder")
        self.api_key_edit.setAccessibleName("API key")
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.forget_key_box.setAccessibleName("Remove the stored API key")
        self.history_box.setRange(0, MAX_HISTORY)
        self.history_box.setAccessibleName("Earlier messages sent with a question")
        self.options_edit.setAccessibleName("Options as JSON")
        self.options_edit.setPlaceholderText('{"temperature": 0.2}')
        self.options_edit.setTabChangesFocus(True)
        self.options_edit.setMaximumHeight(90)
        self.show_settings(settings)

        # Layout
        docs_layout = QHBoxLayout(docs_row)
        docs_layout.setContentsMargins(0, 0, 0, 0)
        docs_layout.addWidget(self.docs_edit, 1)
        docs_layout.addWidget(self.docs_button)
        form = self._form
        form.addRow("&Assistant:", self.backend_box)
        form.addRow(URL_LABELS[GALILEO], self.url_edit)
        form.addRow("Model:", self.model_edit)
        form.addRow("Knowledge base id:", self.kb_edit)
        form.addRow("Model ARN or id:", self.model_arn_edit)
        form.addRow("Region:", self.region_edit)
        form.addRow("Documents folder:", docs_row)
        form.addRow("API key:", self.api_key_edit)
        form.addRow("", self.forget_key_box)
        form.addRow("&History:", self.history_box)
        form.addRow("&Options (JSON):", self.options_edit)
        self._rows = {
            "url": self.url_edit,
            "model": self.model_edit,
            "knowledge_base_id": self.kb_edit,
            "model_arn": self.model_arn_edit,
            "region": self.region_edit,
            "docs_dir": docs_row,
            "api_key": self.api_key_edit,
        }
        self.set_has_key(False)

        # Signals
        self.backend_box.currentIndexChanged.connect(self._on_backend_box_changed)
        self.docs_button.clicked.connect(self._on_docs_button_clicked)

    @property
    def backend(self) -> str:
        return str(self.backend_box.currentData())

    def show_settings(self, settings: AssistantSettings) -> None:
        self.backend_box.setCurrentIndex(max(0, self.backend_box.findData(settings.backend)))
        self.url_edit.setText(settings.url or "")
        self.model_edit.setText(settings.model or "")
        self.kb_edit.setText(settings.knowledge_base_id or "")
        self.model_arn_edit.setText(settings.model_arn or "")
        self.region_edit.setText(settings.region or "")
        self.docs_edit.setText(settings.docs_dir or "")
        self.history_box.setValue(min(MAX_HISTORY, settings.history_limit))
        self.options_edit.setPlainText(json.dumps(settings.options, indent=2) if settings.options else "")

    def set_has_key(self, has_key: bool) -> None:
        """Whether the keyring holds a key (read off the GUI thread by the dialog)."""
        self._has_key = has_key
        self.api_key_edit.setPlaceholderText(
            "A key is stored in the keyring: leave empty to keep it" if has_key else "None stored"
        )
        self._on_backend_box_changed()

    def settings(self) -> AssistantSettings:
        """The settings the form describes, validated; :class:`InvalidInput` says what is wrong."""
        text = self.options_edit.toPlainText().strip()
        try:
            options = json.loads(text) if text else {}
        except ValueError as exc:
            raise InvalidInput(
                f'The options are not valid JSON ({exc.msg}, line {exc.lineno}). Example: {{"temperature": 0.2}}'
            ) from None
        if not isinstance(options, dict):
            raise InvalidInput('The options must be a JSON object, for example {"temperature": 0.2}.')
        backend = self.backend
        values = {
            name: edit.text().strip() or None
            for name, edit in (
                ("url", self.url_edit),
                ("model", self.model_edit),
                ("knowledge_base_id", self.kb_edit),
                ("model_arn", self.model_arn_edit),
                ("region", self.region_edit),
                ("docs_dir", self.docs_edit),
            )
        }
        # Only what the backend uses is kept: a hidden field never holds a stale value.
        kept = {name: value if backend in FIELD_BACKENDS[name] else None for name, value in values.items()}
        settings = replace(
            AssistantSettings(backend=backend),
            **kept,
            history_limit=self.history_box.value(),
            options=options,
        )
        return settings.validate()

    def api_key_change(self) -> str | None:
        """The new key, "" to remove the stored one, None to leave it as it is."""
        if self.backend != OPENAI:
            return None
        if self.forget_key_box.isChecked():
            return ""
        return self.api_key_edit.text().strip() or None

    def accept_stored(self, settings: AssistantSettings) -> None:
        """``settings`` (and the key typed) are stored: the form starts from them."""
        key = self.api_key_change()
        self._initial = settings
        self.api_key_edit.clear()
        self.forget_key_box.setChecked(False)
        if key is not None:
            self.set_has_key(bool(key))

    def changed(self) -> bool:
        try:
            current = self.settings()
        except InvalidInput:
            return True
        return current != replace(self._initial, api_key=None) or self.api_key_change() is not None

    @Slot()
    def _on_backend_box_changed(self) -> None:
        backend = self.backend
        for name, widget in self._rows.items():
            self._form.setRowVisible(widget, backend in FIELD_BACKENDS[name])
        label = self._form.labelForField(self.url_edit)
        if isinstance(label, QLabel):
            label.setText(URL_LABELS.get(backend, "URL:"))
        self._form.setRowVisible(self.forget_key_box, backend == OPENAI and self._has_key)

    @Slot()
    def _on_docs_button_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Documents folder", self.docs_edit.text())
        if folder:
            self.docs_edit.setText(folder)
