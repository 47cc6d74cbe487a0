"""A keyring backend for the command line's own processes in tests: one JSON file.

The CLI keeps a sign-in's refresh token in the keyring, so a command run after
``login`` in another process finds it there. Tests that run the real program as
processes name this backend with ``PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring``
(``tests/`` on ``PYTHONPATH``) and its file with ``TEST_KEYRING_FILE``. Test-only:
it keeps secrets in plain text, in the test's own temporary folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_VARIABLE = "TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment] - keyring's class property, set plainly

    @property
    def path(self) -> Path:
        return Path(os.environ[FILE_VARIABLE])

    def _read(self) -> dict[str, str]:
        try:
            return dict(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return {}

    def _write(self, items: dict[str, str]) -> None:
        self.path.write_text(json.dumps(items), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._write({**self._read(), f"{service}/{username}": password})

    def delete_password(self, service: str, username: str) -> None:
        items = self._read()
        if items.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(username)
        self._write(items)
