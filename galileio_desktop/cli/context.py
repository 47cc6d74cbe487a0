"""What every command gets: the resolved settings, output helpers and lazy clients."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..data.errors import InvalidInput
from ..data.paths import AppPaths
from .deadline import DEFAULT_TIMEOUT_S, CommandDeadline
from .terminal import printable


@dataclass
class Context:
    """One CLI invocation: global options, folders and where output goes."""

    args: argparse.Namespace
    paths: AppPaths
    json: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _gateway: Any = None
    _workspace: Any = None
    _secrets: Any = None
    _library: Any = None
    _deadline: CommandDeadline | None = None
    #: End the process a little after the deadline should anything still hang (the real
    #: program only: tests run commands inside their own process).
    hard_stop: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace, *, hard_stop: bool = False) -> Context:
        return cls(
            args=args, paths=AppPaths.resolve(args.data_dir), json=bool(args.json), hard_stop=hard_stop
        )

    # -- settings -----------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str | None:
        return self.args.endpoint_url or None

    @property
    def region(self) -> str | None:
        return self.args.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")

    @property
    def index(self) -> str:
        return str(self.args.index or "GSI1")

    @property
    def table(self) -> str:
        table = self.args.table or os.environ.get("GALILEIO_TABLE")
        if not table:
            raise InvalidInput("No table given: pass --table NAME or set GALILEIO_TABLE.")
        return str(table)

    @property
    def user_id(self) -> str:
        user_id = self.args.user_id or os.environ.get("GALILEIO_USER_ID")
        if not user_id:
            raise InvalidInput("No user id given: pass --user-id ID or set GALILEIO_USER_ID.")
        return str(user_id)

    # -- clients ------------------------------------------------------------------------

    def dynamodb_client(self) -> Any:
        from ..data.dynamo.dynamo_client import make_dynamodb_client

        return make_dynamodb_client(self.region, self.endpoint_url)

    def gateway(self) -> Any:
        if self._gateway is None:
            from ..data.dynamo.gateway import ChatGateway

            self._gateway = ChatGateway(self.dynamodb_client(), self.table, self.user_id, self.index)
        return self._gateway

    @property
    def offline(self) -> bool:
        return bool(getattr(self.args, "offline", False))

    @property
    def deadline(self) -> CommandDeadline:
        """The deadline of this command's network work (``--timeout``)."""
        if self._deadline is None:
            seconds = getattr(self.args, "timeout", None) or DEFAULT_TIMEOUT_S
            self._deadline = CommandDeadline(float(seconds), self.stderr, hard_stop=self.hard_stop)
        return self._deadline

    @property
    def secrets(self) -> Any:
        """One secret store for the whole run (memory-only secrets must not get lost)."""
        if self._secrets is None:
            from ..data.auth.secrets import SecretStore

            self._secrets = SecretStore()
        return self._secrets

    @secrets.setter
    def secrets(self, store: Any) -> None:
        self._secrets = store

    def workspace(self) -> Any:
        """The account in use: ``--account``, the current account, or the flags."""
        if self._workspace is None:
            from ..workspace import Workspace, resolve_account

            account = resolve_account(
                self.paths,
                account_name=getattr(self.args, "account", None),
                table=self.args.table or os.environ.get("GALILEIO_TABLE"),
                user_id=self.args.user_id or os.environ.get("GALILEIO_USER_ID"),
                region=self.region,
                endpoint_url=self.endpoint_url,
                index=self.args.index,
            )
            self._workspace = Workspace(account, self.paths, offline=self.offline)
            if self._secrets is not None or account.auth in ("cognito", "keys"):
                self._workspace._secrets = self.secrets
        return self._workspace

    def library(self) -> Any:
        """The account's local-first library (mirror, outbox, sync). A mirror found
        damaged and replaced as it opened is told on stderr, in one line."""
        if self._library is None:
            self._library = self.workspace().make_library()
            self.deadline.watch(self._library.cancel_token)
            recovery = getattr(self._library, "recovery", None)
            if recovery is not None:
                self.info(recovery.message)
        return self._library

    def close(self) -> None:
        if self._deadline is not None:
            self._deadline.close()
        if self._library is not None:
            self._library.close()
        if self._gateway is not None:
            self._gateway.close()

    # -- output -------------------------------------------------------------------------

    def out(self, value: Any, text: str | None = None) -> None:
        """Print ``value`` as the one JSON document (``--json``, exact) or ``text`` for
        people, with control and bidi characters escaped (see :mod:`.terminal`)."""
        if self.json:
            json.dump(value, self.stdout, ensure_ascii=False, indent=2)
            self.stdout.write("\n")
        else:
            self.stdout.write(printable(text if text is not None else str(value)) + "\n")
        self.stdout.flush()

    def info(self, text: str) -> None:
        """A note for people on stderr (never mixed into JSON on stdout)."""
        self.stderr.write(printable(text) + "\n")
        self.stderr.flush()


def read_text_argument(value: str) -> str:
    """``-`` reads standard input, as many Unix tools do; it must be UTF-8 text.

    Read as bytes and decoded strictly, so bytes that are not UTF-8 are refused here in
    one line rather than failing later (or being stored as lone surrogates).
    """
    if value != "-":
        return value
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream put in place of stdin (tests, embedding)
        text = sys.stdin.read()
    else:
        data = stream.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"Standard input is not valid UTF-8 text (byte {exc.start + 1} of {len(data)}); "
                "nothing was written."
            ) from exc
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("Standard input is not valid UTF-8 text; nothing was written.") from exc
    return text
