"""One window per data folder: a second launch hands its request to the first and exits.

The first launch listens on a local socket (:class:`QLocalServer`; a named pipe on
Windows) whose name is derived from the data folder, so runs with another
``--data-dir`` are apart, and so is the demo. A later launch connects, sends one
JSON line (``{"chat": ID}``, the chat it was asked to open, or ``""``) and waits for
``ok``: the first raises its window and opens that chat.

The socket lives in a folder only the user can enter (``$XDG_RUNTIME_DIR``, else a
0700 folder of the user's in the temporary folder), so no other user can connect or
take the name; deciding who listens is done under a :class:`QLockFile`, so two
launches at the same moment do not both listen, and a socket left by a crash is
replaced. When none of that can be set up, the app runs without it (logged).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..chat_links import validate_chat_id
from ..data.errors import InvalidInput

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1_000
#: The first instance answers from its event loop, which may still be building its window.
ANSWER_TIMEOUT_MS = 10_000
LOCK_TIMEOUT_MS = 5_000
#: A request is one short line; anything longer is not from us.
MAX_REQUEST_BYTES = 1_024
#: Longest socket path every Unix takes (macOS: 104 bytes with the terminating zero).
MAX_SOCKET_PATH_BYTES = 100
ANSWER = b"ok\n"


class AlreadyRunning(Exception):
    """Another launch owns the name but did not answer: its window may be stuck."""


def encode_request(chat_id: str) -> bytes:
    return json.dumps({"chat": chat_id}).encode("ascii") + b"\n"


def decode_request(data: bytes) -> str:
    """The chat id of a request (``""``: just raise the window); :class:`InvalidInput` otherwise."""
    if len(data) > MAX_REQUEST_BYTES or not data.endswith(b"\n"):
        raise InvalidInput("a request of another launch was cut short or too long")
    try:
        request = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("a request of another launch is not JSON") from None
    chat = request.get("chat") if isinstance(request, dict) else None
    if not isinstance(chat, str):
        raise InvalidInput("a request of another launch names no chat field")
    return validate_chat_id(chat) if chat else ""


def server_name(key: str) -> tuple[str, str] | None:
    """(where the instance for ``key`` listens, its lock file); None when no private place
    can be had."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    if sys.platform == "win32":  # a named pipe; the temporary folder is the user's own
        user = os.environ.get("USERNAME", "")
        name = f"galileio-desktop-{hashlib.sha256(f'{user}:{digest}'.encode()).hexdigest()[:24]}"
        return name, str(Path(tempfile.gettempdir()) / f"{name}.lock")
    folder = _private_socket_dir()
    if folder is None:
        return None
    name = str(folder / digest[:16])
    if len(os.fsencode(name)) > MAX_SOCKET_PATH_BYTES:
        log.warning("single instance: %s is too long a socket path; not used", name)
        return None
    return name, f"{name}.lock"


def _private_socket_dir() -> Path | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute() and _owned_private_dir(Path(runtime)):
        base = Path(runtime) / "galileio-desktop"
    else:
        base = Path(tempfile.gettempdir()) / f"galileio-desktop-{os.getuid()}"
    try:
        base.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        log.warning("single instance: cannot create %s: %s", base, exc)
        return None
    if not _owned_private_dir(base):
        log.warning("single instance: %s is not a private folder of this user; not used", base)
        return None
    return base


def _owned_private_dir(path: Path) -> bool:
    """A real folder (not a link) of this user that nobody else can enter."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def forward(name: str, chat_id: str) -> bool:
    """Hand ``chat_id`` to the instance listening on ``name``: True once it said ok,
    False when nobody listens; :class:`AlreadyRunning` when it took the request without answering."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    try:
        socket.write(encode_request(chat_id))
        socket.flush()
        answer = b""
        while len(answer) < len(ANSWER) and socket.waitForReadyRead(ANSWER_TIMEOUT_MS):
            answer += bytes(socket.readAll().data())
        if answer != ANSWER:
            raise AlreadyRunning(
                "Galileio Desktop is already running but does not answer. "
                "Close it (or end it in the system monitor) and start it again."
            )
        return True
    finally:
        socket.abort()


class InstanceServer(QObject):
    """Listens for later launches of the same data folder.

    Signals: sig_request(chat_id) with a validated chat id, or "" for "show the window".
    """

    sig_request = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._on_server_new_connection)
        self._received: dict[QLocalSocket, bytes] = {}

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # A socket left by a crashed run (nobody answers on it: checked under the lock).
        QLocalServer.removeServer(self.name)
        if self.server.listen(self.name):
            return True
        log.warning("single instance: cannot listen on %s: %s", self.name, self.server.errorString())
        return False

    def close(self) -> None:
        self.server.close()

    @Slot()
    def _on_server_new_connection(self) -> None:
        while (socket := self.server.nextPendingConnection()) is not None:
            socket.setParent(self)
            self._received[socket] = b""
            socket.readyRead.connect(self._on_socket_ready_read)
            socket.disconnected.connect(self._on_socket_disconnected)
            if socket.bytesAvailable():
                self._read(socket)

    @Slot()
    def _on_socket_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._received.pop(socket, None)
            socket.deleteLater()

    @Slot()
    def _on_socket_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._received:
            return  # answered already
        data = self._received[socket] + bytes(socket.readAll().data())
        if not data.endswith(b"\n") and len(data) <= MAX_REQUEST_BYTES:
            self._received[socket] = data  # the rest is on its way
            return
        del self._received[socket]
        try:
            chat_id = decode_request(data)
        except InvalidInput as exc:
            log.warning("single instance: ignored a request: %s", exc)
            socket.abort()
            return
        self.sig_request.emit(chat_id)
        socket.write(ANSWER)
        socket.flush()
        socket.disconnectFromServer()


def claim(key: str, chat_id: str) -> InstanceServer | None:
    """Become the instance for ``key`` (an :class:`InstanceServer`, listening), or hand
    ``chat_id`` to the one running and return None.

    Runs the app without a single-instance guard (a server that does not listen) when
    no private place for it can be had. :class:`AlreadyRunning` as :func:`forward`.
    """
    place = server_name(key)
    if place is None:
        return InstanceServer("")
    name, lock_path = place
    lock = QLockFile(lock_path)
    if not lock.tryLock(LOCK_TIMEOUT_MS):
        log.warning("single instance: %s stays locked; running without the guard", lock_path)
        return InstanceServer("")
    try:
        if forward(name, chat_id):
            return None
        server = InstanceServer(name)
        server.listen()
        return server
    finally:
        lock.unlock()
