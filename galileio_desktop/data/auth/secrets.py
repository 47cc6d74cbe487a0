"""Secrets in the OS keyring, and only there.

Refresh tokens, secret access keys, assistant API keys and (never by default)
passwords are kept under the service ``galileio-desktop`` with keys
``<account>:<kind>``. When no usable
keyring exists (no backend at all, an empty chain, a plain-text file backend, or a
backend that fails), the store says so through :attr:`SecretStore.usable` and
:attr:`SecretStore.warning` and keeps secrets in memory for this session only: the
user signs in again next time. There is never a plain-text file fallback.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

from .redaction import install_log_redaction, register_secret

log = logging.getLogger(__name__)

SERVICE = "galileio-desktop"
REFRESH_TOKEN = "refresh_token"
SECRET_ACCESS_KEY = "secret_access_key"
PASSWORD = "password"
ASSISTANT_API_KEY = "assistant_api_key"
#: Every kind of secret an account can have; sign-out removes all of them.
SECRET_KINDS: tuple[str, ...] = (REFRESH_TOKEN, SECRET_ACCESS_KEY, PASSWORD, ASSISTANT_API_KEY)

_NO_KEYRING = (
    "No usable system keyring was found ({reason}). Your sign-in is kept in memory for this "
    "session only and you will have to sign in again next time. Install and unlock a keyring "
    "(GNOME Keyring, KWallet, macOS Keychain or Windows Credential Manager) to stay signed in."
)


def backend_problem(backend: Any) -> str | None:
    """Why ``backend`` cannot hold our secrets, or None when it can."""
    if backend is None:
        return "no keyring backend"
    if isinstance(backend, fail.Keyring):
        return "no keyring backend is installed"
    module = type(backend).__module__
    name = type(backend).__name__
    if module.startswith("keyring.backends.null"):
        return "the keyring is switched off"
    if module.startswith("keyrings.alt") and ("Plaintext" in name or "file" in module):
        return f"the configured keyring {module}.{name} keeps secrets in a plain file"
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        if not members:
            return "no keyring backend is available"
        problems = [backend_problem(member) for member in members]
        if all(problems):
            return "; ".join(p for p in problems if p)
        return None
    try:
        priority = float(backend.priority)
    except Exception as exc:  # backends raise to say "not available here"
        return f"{module}.{name} is not available ({exc})"
    if priority <= 0:
        return f"{module}.{name} is not a recommended keyring"
    return None


class SecretStore:
    """Account secrets through ``keyring``, or in memory when no keyring is usable."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, service: str = SERVICE) -> None:
        install_log_redaction()
        self.service = service
        self._lock = threading.Lock()
        self._memory: dict[str, str] = {}
        self._warning: str | None = None
        try:
            self._backend: Any = backend if backend is not None else keyring.get_keyring()
        except Exception as exc:
            self._backend = None
            self._fall_back(f"the keyring could not be loaded: {exc}", at_start=True)
            return
        problem = backend_problem(self._backend)
        if problem:
            self._fall_back(problem, at_start=True)

    # -- state -----------------------------------------------------------------------

    @property
    def usable(self) -> bool:
        """True while secrets go to the OS keyring and survive this session."""
        return self._warning is None

    @property
    def warning(self) -> str | None:
        """What to tell the user when secrets are only kept in memory."""
        return self._warning

    @property
    def backend_name(self) -> str:
        if self._backend is None:
            return "none"
        return f"{type(self._backend).__module__}.{type(self._backend).__name__}"

    def _fall_back(self, reason: str, *, at_start: bool = False) -> None:
        """Keep secrets in memory from now on. Found at start, it is only logged at INFO:
        most runs need no secret, and those that do show :attr:`warning` to the user."""
        if self._warning is None:
            self._warning = _NO_KEYRING.format(reason=reason)
            log.log(logging.INFO if at_start else logging.WARNING, "secrets kept in memory only: %s", reason)

    # -- secrets ---------------------------------------------------------------------

    @staticmethod
    def key(account: str, kind: str) -> str:
        if kind not in SECRET_KINDS:
            raise ValueError(f"unknown secret kind {kind!r}")
        if not account or ":" in account:
            raise ValueError(f"invalid account name {account!r}")
        return f"{account}:{kind}"

    def get(self, account: str, kind: str) -> str | None:
        key = self.key(account, kind)
        with self._lock:
            if not self.usable:
                value = self._memory.get(key)
            else:
                try:
                    value = self._backend.get_password(self.service, key)
                except Exception as exc:
                    self._fall_back(f"reading from the keyring failed: {_describe(exc)}")
                    value = self._memory.get(key)
        register_secret(value)
        return value

    def set(self, account: str, kind: str, value: str) -> None:
        if not value:
            raise ValueError("refusing to store an empty secret")
        key = self.key(account, kind)
        register_secret(value)
        with self._lock:
            if self.usable:
                try:
                    self._backend.set_password(self.service, key, value)
                    self._memory.pop(key, None)
                    return
                except Exception as exc:
                    self._fall_back(f"writing to the keyring failed: {_describe(exc)}")
            self._memory[key] = value

    def delete(self, account: str, kind: str) -> bool:
        """Remove one secret; True if there was one."""
        key = self.key(account, kind)
        with self._lock:
            found = self._memory.pop(key, None) is not None
            if self._backend is None or (not self.usable and backend_problem(self._backend)):
                return found
            try:
                if self._backend.get_password(self.service, key) is None:
                    return found
                self._backend.delete_password(self.service, key)
                return True
            except keyring.errors.PasswordDeleteError:
                return found
            except Exception as exc:
                self._fall_back(f"deleting from the keyring failed: {_describe(exc)}")
                return found

    def delete_all(self, account: str) -> list[str]:
        """Remove every secret of ``account``; the kinds that were there."""
        return [kind for kind in SECRET_KINDS if self.delete(account, kind)]

    def has(self, account: str, kind: str) -> bool:
        return self.get(account, kind) is not None


def _describe(exc: BaseException) -> str:
    """An exception in words without its arguments' values (they may hold the secret)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if not text or len(text) > 200:
        return name
    return f"{name}: {text}"
