"""Accounts: which deployment to reach and how to sign in, kept in ``accounts.json``.

An account is a deployment (region, table, index, endpoint override, assistant
settings, the website it was found through, the way to the chats) plus a way to
sign in. Several live side by side in the config folder,
one of them current. Nothing secret is ever written here: passwords, refresh tokens
and secret keys live only in the keyring (:mod:`.secrets`). The file is 0600 in a
0700 folder and replaced atomically, so a crash never leaves half an accounts file.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import GalileioError, InvalidInput, NotFound
from ..paths import private_dir

log = logging.getLogger(__name__)

ACCOUNTS_FILE = "accounts.json"
SCHEMA_VERSION = 1
AUTH_KINDS: tuple[str, ...] = ("cognito", "profile", "keys", "demo", "env")
AuthKind = Literal["cognito", "profile", "keys", "demo", "env"]
#: The user id a demo account uses when none is configured.
DEMO_USER_ID = "demo-user"
#: The ways to the chats: the table itself, or the deployment's own REST API.
DYNAMODB = "dynamodb"
API = "api"
TRANSPORTS: tuple[str, ...] = (DYNAMODB, API)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Assistant settings are free form; keys that name a secret are refused so that an
# API key never lands in the config file by accident (it belongs in the keyring).
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|api[_-]?key|credential", re.IGNORECASE)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "cognito": ("user_pool_id", "client_id", "identity_pool_id", "username"),
    "profile": ("aws_profile", "user_id"),
    "keys": ("access_key_id", "user_id"),
    "env": ("user_id",),
    "demo": (),
}


@dataclass(frozen=True)
class Account:
    """One deployment and one way to sign in to it; nothing secret."""

    name: str
    auth: str
    region: str
    table: str
    index: str = "GSI1"
    #: DynamoDB endpoint override; None leaves botocore's settings in force.
    endpoint_url: str | None = None
    #: The partition key of the user's items. Configured for profile, keys and env
    #: accounts; for Cognito, the ID token's ``sub``, remembered after sign-in so the
    #: mirror can be opened offline.
    user_id: str | None = None
    aws_profile: str | None = None
    access_key_id: str | None = None
    user_pool_id: str | None = None
    client_id: str | None = None
    identity_pool_id: str | None = None
    username: str | None = None
    assistant: dict[str, Any] = field(default_factory=dict)
    history_limit: int = 10
    #: The Galileo website the account was found through (its ``runtime-config.json``).
    website: str | None = None
    #: The deployment's REST API (``apiUrl`` of the website's runtime config).
    api_url: str | None = None
    #: How the chats are reached: ``dynamodb`` (the table) or ``api`` (the REST API).
    transport: str = DYNAMODB

    def validate(self) -> Account:
        """Raise :class:`InvalidInput` naming what is missing or wrong; return self."""
        if not _NAME.match(self.name):
            raise InvalidInput(
                f"Account name {self.name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            )
        if self.auth not in AUTH_KINDS:
            raise InvalidInput(f"Unknown sign-in kind {self.auth!r}: use one of {', '.join(AUTH_KINDS)}.")
        if not self.region:
            raise InvalidInput(f"Account {self.name}: a region is required.")
        if self.transport not in TRANSPORTS:
            raise InvalidInput(
                f"Account {self.name}: unknown transport {self.transport!r}; use one of {', '.join(TRANSPORTS)}."
            )
        if not self.table and self.transport == DYNAMODB:
            raise InvalidInput(f"Account {self.name}: a table is required.")
        if self.transport == API and not self.api_url:
            raise InvalidInput(
                f"Account {self.name}: the API transport needs the deployment's API address, "
                "which its website names; without it, name the table (--table)."
            )
        if not self.index:
            raise InvalidInput(f"Account {self.name}: an index name is required.")
        missing = [name for name in _REQUIRED[self.auth] if not getattr(self, name)]
        if missing:
            options = ", ".join("--" + name.replace("_", "-") for name in missing)
            raise InvalidInput(f"Account {self.name} ({self.auth} sign-in) needs {options}.")
        if self.user_id is not None:
            validate_user_id(self.user_id)
        if self.auth == "cognito":
            _check_pool_ids(self)
        if not isinstance(self.history_limit, int) or self.history_limit < 0:
            raise InvalidInput(f"Account {self.name}: history_limit must be a whole number >= 0.")
        if not isinstance(self.assistant, dict):
            raise InvalidInput(f"Account {self.name}: assistant settings must be a mapping.")
        secret_keys = sorted(_secret_keys(self.assistant))
        if secret_keys:
            raise InvalidInput(
                f"Account {self.name}: assistant settings may not hold secrets ({', '.join(secret_keys)}); "
                "secrets belong in the keyring."
            )
        return self

    @property
    def effective_user_id(self) -> str | None:
        """The partition key to use, when known without signing in."""
        if self.user_id:
            return self.user_id
        return DEMO_USER_ID if self.auth == "demo" else None

    def to_json(self) -> dict[str, Any]:
        """The account as stored: defaults and empty values left out."""
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in (None, {}) or k in ("name", "auth")}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            # Written by a newer version: keep working with what we understand.
            log.warning("account %s: ignoring unknown settings %s", data.get("name"), ", ".join(unknown))
        values = {k: v for k, v in data.items() if k in known}
        try:
            return cls(**values)
        except TypeError as exc:
            raise InvalidInput(f"An account in the accounts file is incomplete: {exc}") from exc


def default_transport(website: str | None, table: str | None) -> str:
    """``api`` for an account found through its website with no table named, else ``dynamodb``."""
    return API if website and not table else DYNAMODB


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """A valid account name like ``wanted`` (a host name, a file's suggestion) that is not taken."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", wanted).strip("-._")[:56] or "galileo"
    names = set(taken)
    name, n = base, 2
    while name in names:
        name, n = f"{base}-{n}", n + 1
    return name


def validate_user_id(user_id: str) -> str:
    """A user id must be usable as a partition key and a GSI1PK prefix.

    ``#`` is refused: GSI1PK is ``{userId}#CHAT...``, so a user id containing ``#``
    could make another user's index keys look like one's own.
    """
    if not user_id or not user_id.strip() or user_id != user_id.strip():
        raise InvalidInput("A user id may not be empty or start or end with spaces.")
    if "#" in user_id:
        raise InvalidInput(f"User id {user_id!r} may not contain '#'.")
    if len(user_id) > 1024:
        raise InvalidInput("A user id may be at most 1024 characters long.")
    return user_id


def _check_pool_ids(account: Account) -> None:
    if account.user_pool_id and "_" not in account.user_pool_id:
        raise InvalidInput(
            f"User pool id {account.user_pool_id!r} does not look like REGION_ID (for example eu-west-1_AbC123)."
        )
    if account.identity_pool_id and ":" not in account.identity_pool_id:
        raise InvalidInput(
            f"Identity pool id {account.identity_pool_id!r} does not look like REGION:UUID "
            "(for example eu-west-1:1234abcd-...)."
        )


def _secret_keys(value: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            path = f"{prefix}{key}"
            if _SECRET_WORDS.search(str(key)) and inner not in (None, ""):
                yield path
            yield from _secret_keys(inner, path + ".")


class AccountStore:
    """The accounts of this user, in ``<config_dir>/accounts.json``.

    Every change re-reads the file under a lock and replaces it atomically, so the
    window and a CLI command can both change accounts without losing each other's edits.
    """

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = Path(config_dir)
        self.path = self.config_dir / ACCOUNTS_FILE

    # -- reading -------------------------------------------------------------------------

    def list(self) -> list[Account]:
        """All accounts, by name."""
        accounts, _ = self._load()
        return sorted(accounts.values(), key=lambda a: a.name)

    def get(self, name: str) -> Account:
        accounts, _ = self._load()
        try:
            return accounts[name]
        except KeyError:
            raise NotFound(
                f"There is no account named {name!r}. See 'galileio-desktop account list'."
            ) from None

    def current(self) -> Account | None:
        """The account in use: the one chosen with :meth:`use`, or the only one there is."""
        accounts, current = self._load()
        if current in accounts:
            return accounts[current]
        if len(accounts) == 1:
            return next(iter(accounts.values()))
        return None

    def current_name(self) -> str | None:
        account = self.current()
        return account.name if account else None

    def resolve(self, name: str | None) -> Account:
        """``name`` if given, else the current account; :class:`InvalidInput` if neither."""
        if name:
            return self.get(name)
        account = self.current()
        if account is None:
            if self.list():
                raise InvalidInput("Several accounts exist: pass --account NAME or run 'account use NAME'.")
            raise InvalidInput("No account yet: add one with 'galileio-desktop account add NAME ...'.")
        return account

    # -- changing ------------------------------------------------------------------------

    def add(self, account: Account, *, replace_existing: bool = False) -> Account:
        """Store a new account (the first one becomes current)."""
        account.validate()
        with self._locked():
            accounts, current = self._load()
            if account.name in accounts and not replace_existing:
                raise InvalidInput(f"An account named {account.name!r} already exists.")
            accounts[account.name] = account
            if current is None and len(accounts) == 1:
                current = account.name
            self._save(accounts, current)
        log.info("account %s saved (%s sign-in)", account.name, account.auth)
        return account

    def update(self, account: Account) -> Account:
        """Replace an existing account's settings."""
        self.get(account.name)
        return self.add(account, replace_existing=True)

    def remember_user_id(self, name: str, user_id: str) -> Account:
        """Record the user id learnt at sign-in (Cognito ``sub``), if it changed."""
        account = self.get(name)
        if account.user_id == user_id:
            return account
        return self.update(replace(account, user_id=user_id))

    def remove(self, name: str) -> Account:
        with self._locked():
            accounts, current = self._load()
            if name not in accounts:
                raise NotFound(f"There is no account named {name!r}.")
            account = accounts.pop(name)
            if current == name:
                current = None
            self._save(accounts, current)
        log.info("account %s removed", name)
        return account

    def use(self, name: str) -> Account:
        """Make ``name`` the current account."""
        with self._locked():
            accounts, _ = self._load()
            if name not in accounts:
                raise NotFound(f"There is no account named {name!r}.")
            self._save(accounts, name)
        return accounts[name]

    # -- the file ------------------------------------------------------------------------

    def _load(self) -> tuple[dict[str, Account], str | None]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}, None
        except OSError as exc:
            raise GalileioError(f"Cannot read the accounts file {self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise GalileioError(
                f"The accounts file {self.path} is damaged ({exc}); fix or remove it."
            ) from exc
        version = data.get("version")
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise GalileioError(
                f"The accounts file {self.path} was written by a newer Galileio Desktop "
                f"(version {version!r}); please upgrade."
            )
        accounts: dict[str, Account] = {}
        for entry in data.get("accounts", []):
            if not isinstance(entry, dict):
                continue
            account = Account.from_json(entry)
            accounts[account.name] = account
        current = data.get("current")
        return accounts, current if isinstance(current, str) else None

    def _save(self, accounts: dict[str, Account], current: str | None) -> None:
        data = {
            "version": SCHEMA_VERSION,
            "current": current,
            "accounts": [accounts[name].to_json() for name in sorted(accounts)],
        }
        write_private_json(self.path, data)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """An advisory lock beside the file (POSIX), so read-modify-write is not lost."""
        private_dir(self.config_dir)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: atomic replace only
            yield
            return
        fd = os.open(self.config_dir / (ACCOUNTS_FILE + ".lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def write_private_json(path: Path, data: Any) -> None:
    """Write ``data`` to ``path`` atomically: a 0600 temp file in the same 0700 folder,
    flushed to disk, then ``os.replace``."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:  # mkstemp creates the file 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        os.chmod(path, 0o600)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
