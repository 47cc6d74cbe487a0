"""Which locations the window may open, and how sources name their location.

Message and source content is untrusted: only http(s) links are ever handed to
the desktop, and only from a user's click. Everything else (``javascript:``,
``file:``, ``s3:``, custom schemes) is inert; s3 locations can be copied.
"""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlsplit

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from . import bidi

log = logging.getLogger(__name__)

OPENABLE_SCHEMES = frozenset({"http", "https"})
#: The most characters of an address a confirmation shows (on one line).
CONFIRM_URL_CHARS = 2_000


def is_openable(url: str) -> bool:
    """True for an absolute http or https URL with a host."""
    parsed = QUrl(url.strip(), QUrl.ParsingMode.StrictMode)
    return parsed.isValid() and parsed.scheme().lower() in OPENABLE_SCHEMES and bool(parsed.host())


def open_on_click(url: str) -> bool:
    """Open ``url`` in the browser if it is http(s); call only from a user's click. Returns opened."""
    if not is_openable(url):
        log.info("not opening a link with a scheme other than http(s)")
        return False
    return bool(QDesktopServices.openUrl(QUrl(url.strip(), QUrl.ParsingMode.StrictMode)))


def copy_text(text: str) -> None:
    """Put ``text`` on the clipboard."""
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(text)


def location_label(location: str) -> str:
    """A short name for a source location: the file name of an s3/http URI or path, else the text."""
    text = location.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    path = parts.path if parts.scheme else text
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    if name:
        return name
    return parts.netloc or text


def confirm_and_open(url: str, parent: QWidget) -> QMessageBox | None:
    """Ask before opening ``url`` from a message, showing the whole address; returns the
    question (not yet answered), or None when the link is not one the window opens."""
    if not is_openable(url):
        log.info("not opening a link with a scheme other than http(s)")
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Link not opened",
            "Only web links (http and https) are opened from messages.",
            QMessageBox.StandardButton.Ok,
            parent,
        )
        box.setInformativeText(bidi.one_line(url, CONFIRM_URL_CHARS))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return None
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Open link?",
        "Open this address in your web browser?",
        QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setObjectName("confirmOpenLink")
    box.setInformativeText(bidi.one_line(url, CONFIRM_URL_CHARS))
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def on_finished(_result: int) -> None:
        if box.standardButton(box.clickedButton()) == QMessageBox.StandardButton.Open:
            open_on_click(url)

    box.finished.connect(on_finished)
    box.open()
    return box
