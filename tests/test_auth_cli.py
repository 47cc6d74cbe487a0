"""``account add|list|use|remove``, ``login`` and ``logout`` on the command line."""

from __future__ import annotations

import getpass
import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from galileio_desktop.cli.context import Context
from galileio_desktop.cli.main import build_parser, run
from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import SECRET_ACCESS_KEY, SecretStore
from galileio_desktop.data.errors import InvalidInput, NotFound
from galileio_desktop.data.paths import AppPaths

COGNITO = [
    "--auth",
    "cognito",
    "--region",
    "eu-west-1",
    "--table",
    "chats",
    "--user-pool-id",
    "eu-west-1_Pool1",
    "--client-id",
    "client1",
    "--identity-pool-id",
    "eu-west-1:0000-1111",
    "--username",
    "alice",
]
KEYS = [
    "--auth",
    "keys",
    "--access-key-id",
    "AKIACLI",
    "--user-id",
    "cli-user",
    "--region",
    "us-east-1",
    "--table",
    "t",
]


class Terminal(io.StringIO):
    """Standard input that claims to be a terminal, for the hidden prompts."""

    def isatty(self) -> bool:
        return True


class Cli:
    """Runs commands through the real parser and handlers, sharing one secret store."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.secrets = SecretStore(fail.Keyring())
        self.err = ""

    def __call__(self, *argv: str, stdin: io.StringIO | None = None) -> str:
        args = build_parser().parse_args(["--data-dir", str(self.data_dir), *argv])
        out, err = io.StringIO(), io.StringIO()
        ctx = Context(
            args=args, paths=AppPaths.resolve(self.data_dir), json=bool(args.json), stdout=out, stderr=err
        )
        ctx.secrets = self.secrets  # type: ignore[attr-defined]
        saved = sys.stdin
        sys.stdin = stdin if stdin is not None else io.StringIO("")
        try:
            assert args.func(ctx, args) == 0
        finally:
            sys.stdin = saved
        self.err = err.getvalue()
        return out.getvalue()

    @property
    def store(self) -> AccountStore:
        return AccountStore(AppPaths.resolve(self.data_dir).config_dir)


@pytest.fixture
def cli(data_dir: Path) -> Cli:
    return Cli(data_dir)


def test_add_list_use_remove(cli: Cli) -> None:
    assert "Added account work" in cli("account", "add", "work", *COGNITO)
    assert "login" in cli("account", "add", "home", *COGNITO)
    listing = json.loads(cli("--json", "account", "list"))
    assert listing["current"] == "work"
    assert [(a["name"], a["current"]) for a in listing["accounts"]] == [("home", False), ("work", True)]
    assert listing["accounts"][1]["user_pool_id"] == "eu-west-1_Pool1"

    assert "Now using account home" in cli("account", "use", "home")
    text = cli("account", "list")
    assert text.splitlines()[0].startswith("* home")
    assert text.splitlines()[1].startswith("  work")

    assert "Removed account home" in cli("account", "remove", "home")
    assert [a.name for a in cli.store.list()] == ["work"]


def test_global_options_fill_in_the_deployment(cli: Cli) -> None:
    cli(
        "--region",
        "ap-south-1",
        "--table",
        "global-table",
        "account",
        "add",
        "g",
        "--auth",
        "env",
        "--user-id",
        "u",
    )
    account = cli.store.get("g")
    assert (account.region, account.table, account.user_id) == ("ap-south-1", "global-table", "u")


def test_keys_secret_from_stdin_goes_to_the_keyring_only(cli: Cli) -> None:
    secret = "cli-secret-access-key-value"
    cli("account", "add", "lab", *KEYS, "--secret-stdin", stdin=io.StringIO(secret + "\n"))
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) == secret
    assert secret not in cli.store.path.read_text()
    assert "memory for this session only" in cli.err  # no keyring here: said plainly

    output = json.loads(
        cli("--json", "--account", "lab", "login", "--password-stdin", stdin=io.StringIO("new-secret\n"))
    )
    assert output == {"account": "lab", "user_id": "cli-user", "signed_in": True}
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) == "new-secret"

    removed = json.loads(cli("--json", "logout"))
    assert removed == {
        "account": "lab",
        "secrets_removed": [SECRET_ACCESS_KEY],
        "unsent_changes": 0,
        "mirror_deleted": False,
    }
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) is None


def test_secret_prompt_is_hidden(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "typed-at-the-prompt"

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    cli("account", "add", "lab", *KEYS, stdin=Terminal(""))
    assert prompts == ["Secret access key: "]
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) == "typed-at-the-prompt"


def test_no_terminal_and_no_stdin_flag_refuses(cli: Cli) -> None:
    with pytest.raises(InvalidInput, match="--secret-stdin"):
        cli("account", "add", "lab", *KEYS)
    assert cli.store.list() == []
    with pytest.raises(InvalidInput, match="only for --auth keys"):
        cli("account", "add", "work", *COGNITO, "--secret-stdin")


@pytest.mark.parametrize(
    "argv",
    [
        ["login", "--password", "hunter2"],
        ["account", "add", "lab", *KEYS, "--secret-access-key", "hunter2"],
    ],
)
def test_secrets_are_never_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def test_duplicate_and_unknown_accounts(cli: Cli) -> None:
    cli("account", "add", "work", *COGNITO)
    with pytest.raises(InvalidInput, match="already exists"):
        cli("account", "add", "work", *COGNITO)
    cli("account", "add", "work", *COGNITO[:-1], "bob", "--replace")
    assert cli.store.get("work").username == "bob"
    with pytest.raises(NotFound):
        cli("account", "use", "nope")


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """The main command sets up process-wide logging once; undo it after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    named = {
        name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3", "werkzeug", "moto")
    }
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, old in named.items():
        logging.getLogger(name).setLevel(old)
    if hasattr(root, "_galileio_configured"):
        delattr(root, "_galileio_configured")


def test_exit_codes_through_the_main_command(
    data_dir: Path, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    assert run(["--data-dir", str(data_dir), "account", "use", "nope"]) == NotFound.exit_code
    assert "no account named 'nope'" in capsys.readouterr().err
    assert run(["--data-dir", str(data_dir), "login"]) == InvalidInput.exit_code
    assert "account add" in capsys.readouterr().err
    assert (
        run(
            [
                "--data-dir",
                str(data_dir),
                "account",
                "add",
                "x",
                "--auth",
                "profile",
                "--region",
                "r",
                "--table",
                "t",
            ]
        )
        == 2
    )
    assert "--aws-profile" in capsys.readouterr().err


def test_logout_warns_about_unsent_changes_and_can_delete_the_local_copy(cli: Cli) -> None:
    from galileio_desktop.data.mirror.database import mirror_path_for
    from galileio_desktop.data.sync.library import ChatLibrary

    cli("account", "add", "lab", *KEYS, "--secret-stdin", stdin=io.StringIO("lab-secret\n"))
    mirror = mirror_path_for(
        AppPaths.resolve(cli.data_dir).data_dir, "cli-user", "t", None, region="us-east-1"
    )
    library = ChatLibrary(mirror, "cli-user", None)
    library.create_chat("written offline")
    library.close()

    with pytest.raises(InvalidInput, match="1 change.*not been sent.*--force"):
        cli("logout")
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) == "lab-secret"  # nothing happened

    result = json.loads(cli("--json", "logout", "--force"))
    assert result["unsent_changes"] == 1 and result["mirror_deleted"] is False
    assert cli.secrets.get("lab", SECRET_ACCESS_KEY) is None
    assert mirror.exists()  # the queued change waits for the next sign-in

    with pytest.raises(InvalidInput, match="would be lost"):
        cli("logout", "--delete-mirror")
    assert "local copy of your chats was deleted" in cli("logout", "--delete-mirror", "--force")
    assert not mirror.exists()
