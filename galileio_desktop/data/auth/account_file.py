"""Account files: a deployment's settings, handed out by an administrator.

``deploy/galileio-desktop.yaml`` produces one as its ``DesktopAccountFile`` output;
a user imports it (``galileio-desktop account import FILE``, or Import in the
window) and then types only a user name and a password. The format is versioned
by its ``format`` member and holds no secret::

    {"format": "galileio-account/1", "name": "galileo", "region": "eu-west-1",
     "table": "galileo-chats", "index": "GSI1", "userPoolId": "eu-west-1_AbC123",
     "clientId": "1example", "identityPoolId": "eu-west-1:1234abcd-...",
     "inferenceUrl": "https://....lambda-url.eu-west-1.on.aws/",
     "website": "https://...", "apiUrl": "https://.../prod/"}

``name``, ``index``, ``inferenceUrl``, ``website`` and ``apiUrl`` may be left
out (or empty); ``table`` may be left out when ``apiUrl`` is given. Unknown
members are ignored, so a later ``/1`` file with more in it still imports. The
file comes from elsewhere, so it is checked as hostile input: its size, its
encoding, every value's type and shape, and no member that names a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from .accounts import API, DYNAMODB, Account, unique_name
from .runtime_config import (
    CLIENT_ID_PATTERN,
    IDENTITY_POOL_PATTERN,
    REGION_PATTERN,
    USER_POOL_PATTERN,
)
from .web_address import secure_url, website_root

FORMAT = "galileio-account/1"
_FORMAT_PREFIX = "galileio-account/"
#: An account file is a few hundred bytes.
MAX_FILE_BYTES = 64 * 1024
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_SECRET_WORDS = re.compile(r"secret|password|passwd|token|credential|private", re.IGNORECASE)
#: (member, what to call it, pattern) of the text members, required ones first.
_REQUIRED = (
    ("region", "region", REGION_PATTERN),
    ("userPoolId", "user pool id", USER_POOL_PATTERN),
    ("clientId", "app client id", CLIENT_ID_PATTERN),
    ("identityPoolId", "identity pool id", IDENTITY_POOL_PATTERN),
)
_OPTIONAL = (
    ("name", "account name", re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")),
    ("table", "table", _TABLE),
    ("index", "index", _TABLE),
)
_ADDRESSES = (
    ("inferenceUrl", "the inference address"),
    ("website", "the website's address"),
    ("apiUrl", "the API address"),
)


@dataclass(frozen=True)
class AccountFile:
    """The checked contents of an account file."""

    region: str
    user_pool_id: str
    client_id: str
    identity_pool_id: str
    name: str | None = None
    table: str | None = None
    index: str | None = None
    inference_url: str | None = None
    website: str | None = None
    api_url: str | None = None

    def account(self, username: str, *, name: str | None = None, taken: Iterable[str] = ()) -> Account:
        """The Cognito account this file describes, for ``username``; named ``name``, else
        the file's suggestion made unique among ``taken``."""
        if not username.strip():
            raise InvalidInput("Enter your user name.")
        chosen = name or unique_name(self.name or "galileo", taken)
        assistant = {"backend": "galileo", "url": self.inference_url} if self.inference_url else {}
        return Account(
            name=chosen,
            auth="cognito",
            region=self.region,
            table=self.table or "",
            index=self.index or "GSI1",
            user_pool_id=self.user_pool_id,
            client_id=self.client_id,
            identity_pool_id=self.identity_pool_id,
            username=username.strip(),
            assistant=assistant,
            website=self.website,
            api_url=self.api_url,
            transport=DYNAMODB if self.table else API,
        ).validate()

    def describe(self) -> str:
        """What the file sets up, in a few words (it holds nothing secret)."""
        where = f"table {self.table}" if self.table else "the deployment's API"
        parts = [f"region {self.region}", where, f"user pool {self.user_pool_id}"]
        parts.append("an assistant" if self.inference_url else "no assistant")
        return "Account file: " + ", ".join(parts) + "."


def read_account_file(path: Path | str) -> AccountFile:
    """Read and check an account file; :class:`InvalidInput` saying what is wrong with it."""
    path = Path(path)
    try:
        if not path.is_file():
            raise InvalidInput(f"There is no account file at {path}.")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"Cannot read the account file {path}: {exc.strerror or exc}.") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise InvalidInput(f"{path} is too large to be an account file (over {MAX_FILE_BYTES // 1024} KB).")
    return parse_account_file(raw, str(path))


def parse_account_file(raw: bytes, source: str) -> AccountFile:
    """Check the bytes of an account file read from ``source`` (named in messages)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{source} is not an account file: it is not UTF-8 text.") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{source} is not an account file: it is not valid JSON ({exc.msg}).") from None
    if not isinstance(data, Mapping):
        raise InvalidInput(f"{source} is not an account file: it is not a JSON object.")
    version = data.get("format")
    if not isinstance(version, str) or not version.startswith(_FORMAT_PREFIX):
        raise InvalidInput(f'{source} is not an account file: "format" is not "{FORMAT}".')
    if version != FORMAT:
        raise InvalidInput(
            f"{source} is an account file of a newer format ({version[:40]}); please upgrade Galileio Desktop."
        )
    secrets = sorted(str(key)[:40] for key in data if _SECRET_WORDS.search(str(key)))
    if secrets:
        raise InvalidInput(
            f"{source} holds what looks like a secret ({', '.join(secrets)}): an account file must not. "
            "Ask your administrator for one without it; passwords are typed at sign-in."
        )
    missing = [what for key, what, _ in _REQUIRED if data.get(key) in (None, "")]
    if missing:
        raise InvalidInput(f"{source} lacks the {', '.join(missing)}.")
    values: dict[str, Any] = {}
    for key, what, pattern in (*_REQUIRED, *_OPTIONAL):
        value = data.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not pattern.match(value):
            shown = repr(value)[:60] if isinstance(value, str) else f"not text ({type(value).__name__})"
            raise InvalidInput(f"{source} has a {what} ({key}) that is not valid: {shown}.")
        values[key] = value
    for key, what in _ADDRESSES:
        value = data.get(key)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{source} has {what} ({key}) that is not text.")
        try:
            values[key] = website_root(value) if key == "website" else secure_url(value, what)
        except InvalidInput as exc:
            raise InvalidInput(f"{source}: {exc.message}") from None
    if "table" not in values and "apiUrl" not in values:
        raise InvalidInput(f"{source} names neither a table nor an API address (apiUrl): one is needed.")
    return AccountFile(
        region=values["region"],
        user_pool_id=values["userPoolId"],
        client_id=values["clientId"],
        identity_pool_id=values["identityPoolId"],
        name=values.get("name"),
        table=values.get("table"),
        index=values.get("index"),
        inference_url=values.get("inferenceUrl"),
        website=values.get("website"),
        api_url=values.get("apiUrl"),
    )
