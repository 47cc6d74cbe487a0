"""``account add|list|use|remove``, ``login`` and ``logout``.

Passwords and secret keys are read from a hidden prompt or, for scripts, from
standard input (``--password-stdin``, ``--secret-stdin``); never from an argument,
where they would end up in the shell history and the process list.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..data.auth.account_file import read_account_file
from ..data.auth.accounts import API, AUTH_KINDS, DYNAMODB, TRANSPORTS, Account, AccountStore
from ..data.auth.runtime_config import FETCH_DEADLINE_S, fetch_runtime_config
from ..data.auth.secrets import SECRET_ACCESS_KEY, SecretStore
from ..data.auth.sessions import login, logout, open_session
from ..data.errors import CredentialsError, InvalidInput

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add the account commands to the main parser's sub-parsers."""
    account = subparsers.add_parser("account", help="add, list, choose and remove accounts")
    actions = account.add_subparsers(dest="account_command", metavar="ACTION", required=True)

    add = actions.add_parser(
        "add",
        help="add an account (a deployment and a way to sign in)",
        description="Add an account. Secrets are never options: the secret key is asked for "
        "(or read with --secret-stdin) and kept in the system keyring.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument(
        "--website",
        metavar="URL",
        help="the Galileo website's address: its settings are read from it (implies --auth cognito)",
    )
    add.add_argument("--auth", choices=AUTH_KINDS, help="how to sign in (required without --website)")
    add.add_argument(
        "--transport",
        choices=TRANSPORTS,
        help="how to reach the chats: the deployment's API, or the table "
        "(default: api with --website and no --table, else dynamodb)",
    )
    add.add_argument("--region", dest="acct_region", metavar="R", help="AWS region of the deployment")
    add.add_argument("--table", dest="acct_table", metavar="T", help="the chat table")
    add.add_argument("--index", dest="acct_index", metavar="NAME", help="the time-order index (default GSI1)")
    add.add_argument(
        "--endpoint-url", dest="acct_endpoint_url", metavar="URL", help="DynamoDB endpoint override"
    )
    add.add_argument("--user-pool-id", metavar="ID", help="Cognito user pool (cognito)")
    add.add_argument("--client-id", metavar="ID", help="Cognito app client, without secret (cognito)")
    add.add_argument("--identity-pool-id", metavar="ID", help="Cognito identity pool (cognito)")
    add.add_argument("--username", metavar="U", help="Cognito user name (cognito)")
    add.add_argument("--aws-profile", metavar="P", help="AWS profile, SSO profiles included (profile)")
    add.add_argument("--access-key-id", metavar="K", help="access key id (keys)")
    add.add_argument("--user-id", dest="acct_user_id", metavar="U", help="your user id (profile, keys, env)")
    add.add_argument("--history-limit", type=int, metavar="N", help="past turns sent to the assistant")
    add.add_argument(
        "--secret-stdin", action="store_true", help="read the secret access key from stdin (keys)"
    )
    add.add_argument("--replace", action="store_true", help="replace an account of the same name")
    add.set_defaults(func=add_account)

    imported = actions.add_parser(
        "import",
        help="add an account from a file your administrator hands out",
        description="Add an account from an account file (the DesktopAccountFile output of "
        "deploy/galileio-desktop.yaml). The file holds no secret; sign in afterwards with 'login'.",
    )
    imported.add_argument("file", metavar="FILE", help="the account file (JSON)")
    imported.add_argument("--username", required=True, metavar="U", help="your user name")
    imported.add_argument("--name", dest="import_name", metavar="NAME", help="the account's name")
    imported.add_argument("--replace", action="store_true", help="replace an account of the same name")
    imported.set_defaults(func=import_account)

    listing = actions.add_parser("list", help="list the accounts")
    listing.set_defaults(func=list_accounts)

    use = actions.add_parser("use", help="make an account the current one")
    use.add_argument("name", metavar="NAME")
    use.set_defaults(func=use_account)

    remove = actions.add_parser("remove", help="remove an account and its secrets")
    remove.add_argument("name", metavar="NAME")
    remove.set_defaults(func=remove_account)

    sign_in = subparsers.add_parser("login", help="sign in to the current account (or --account NAME)")
    sign_in.add_argument(
        "--password-stdin", action="store_true", help="read the password (or secret key) from standard input"
    )
    sign_in.set_defaults(func=login_command)

    sign_out = subparsers.add_parser(
        "logout",
        help="sign out: remove the account's secrets from the keyring",
        description="Sign out of the current account (or --account NAME). Changes not sent yet stay "
        "queued in the local copy and go out after the next sign-in; signing out with such changes "
        "asks for --force.",
    )
    sign_out.add_argument(
        "--delete-mirror", action="store_true", help="also delete this account's local copy of the chats"
    )
    sign_out.add_argument(
        "--force", action="store_true", help="sign out even though changes are not sent yet"
    )
    sign_out.set_defaults(func=logout_command)


# -- handlers ----------------------------------------------------------------------------


def add_account(ctx: Any, args: argparse.Namespace) -> int:
    if args.website:
        return _add_from_website(ctx, args)
    if not args.auth:
        raise InvalidInput("An account needs --website URL, or --auth and the deployment's settings.")
    region = args.acct_region or getattr(args, "region", None)
    table = args.acct_table or getattr(args, "table", None)
    if not region or not table:
        raise InvalidInput("An account needs --region and --table.")
    if args.secret_stdin and args.auth != "keys":
        raise InvalidInput("--secret-stdin is only for --auth keys.")
    account = Account(
        name=args.name,
        auth=args.auth,
        region=region,
        table=table,
        index=args.acct_index or getattr(args, "index", None) or "GSI1",
        endpoint_url=args.acct_endpoint_url or getattr(args, "endpoint_url", None) or None,
        user_id=args.acct_user_id or getattr(args, "user_id", None) or None,
        aws_profile=args.aws_profile,
        access_key_id=args.access_key_id,
        user_pool_id=args.user_pool_id,
        client_id=args.client_id,
        identity_pool_id=args.identity_pool_id,
        username=args.username,
        history_limit=10 if args.history_limit is None else args.history_limit,
        transport=args.transport or DYNAMODB,
    ).validate()
    store = AccountStore(ctx.paths.config_dir)
    if not args.replace:
        _refuse_taken(store, account.name)
    secrets = _secrets(ctx)
    if account.auth == "keys":
        secret = _read_secret(ctx, "Secret access key: ", args.secret_stdin)
        store.add(account, replace_existing=args.replace)
        secrets.set(account.name, SECRET_ACCESS_KEY, secret)
    else:
        store.add(account, replace_existing=args.replace)
    _warn_if_memory_only(ctx, secrets, account.auth in ("keys", "cognito"))
    hint = (
        f" Sign in with 'galileio-desktop --account {account.name} login'."
        if account.auth == "cognito"
        else ""
    )
    ctx.out(_describe(account, store.current_name()), f"Added account {account.name} ({account.auth}).{hint}")
    return 0


def _add_from_website(ctx: Any, args: argparse.Namespace) -> int:
    """``--website``: the deployment's settings come from its ``runtime-config.json``."""
    if args.auth not in (None, "cognito"):
        raise InvalidInput("--website signs in with the website's Galileo users: leave out --auth.")
    if not args.username:
        raise InvalidInput("An account with --website needs --username.")
    for option, value in (
        ("--user-pool-id", args.user_pool_id),
        ("--client-id", args.client_id),
        ("--identity-pool-id", args.identity_pool_id),
        ("--region", args.acct_region),
        ("--aws-profile", args.aws_profile),
        ("--access-key-id", args.access_key_id),
        ("--secret-stdin", args.secret_stdin),
    ):
        if value:
            raise InvalidInput(f"{option} does not go with --website: the website names its own settings.")
    store = AccountStore(ctx.paths.config_dir)
    if not args.replace:
        _refuse_taken(store, args.name)
    deadline = getattr(ctx.args, "timeout", None) or FETCH_DEADLINE_S
    config = fetch_runtime_config(args.website, deadline_s=min(deadline, FETCH_DEADLINE_S))
    _info(ctx, config.describe())
    account = config.account(
        args.name,
        args.username,
        table=args.acct_table or getattr(args, "table", None),
        index=args.acct_index or getattr(args, "index", None),
        transport=args.transport,
        endpoint_url=args.acct_endpoint_url or getattr(args, "endpoint_url", None) or None,
    )
    if args.history_limit is not None:
        account = replace(account, history_limit=args.history_limit).validate()
    return _save_cognito(ctx, store, account, args.replace)


def import_account(ctx: Any, args: argparse.Namespace) -> int:
    """``account import FILE``: the administrator's account file, then the user's own name."""
    found = read_account_file(args.file)
    store = AccountStore(ctx.paths.config_dir)
    taken = [] if args.replace else [existing.name for existing in store.list()]
    account = found.account(args.username, name=args.import_name, taken=taken)
    if not args.replace:
        _refuse_taken(store, account.name)
    _info(ctx, found.describe())
    return _save_cognito(ctx, store, account, args.replace)


def _save_cognito(ctx: Any, store: AccountStore, account: Account, replace_existing: bool) -> int:
    store.add(account, replace_existing=replace_existing)
    _warn_if_memory_only(ctx, _secrets(ctx), True)
    ctx.out(
        _describe(account, store.current_name()),
        f"Added account {account.name} ({account.auth}, chats through "
        f"{'the API' if account.transport == API else 'the table'}). "
        f"Sign in with 'galileio-desktop --account {account.name} login'.",
    )
    return 0


def _refuse_taken(store: AccountStore, name: str) -> None:
    """Refuse a duplicate before a look-up or a secret that would then be thrown away."""
    if name in {existing.name for existing in store.list()}:
        raise InvalidInput(f"An account named {name!r} already exists (use --replace).")


def list_accounts(ctx: Any, args: argparse.Namespace) -> int:
    store = AccountStore(ctx.paths.config_dir)
    accounts = store.list()
    current = store.current_name()
    if not accounts:
        ctx.out(
            {"current": None, "accounts": []}, "No accounts yet: add one with 'galileio-desktop account add'."
        )
        return 0
    rows = [_describe(account, current) for account in accounts]
    lines = []
    for row in rows:
        marker = "*" if row["current"] else " "
        user = row.get("user_id") or "-"
        lines.append(
            f"{marker} {row['name']:<20} {row['auth']:<8} {row['region']:<14} {row['table']:<24} {user}"
        )
    ctx.out({"current": current, "accounts": rows}, "\n".join(lines))
    return 0


def use_account(ctx: Any, args: argparse.Namespace) -> int:
    account = AccountStore(ctx.paths.config_dir).use(args.name)
    ctx.out({"current": account.name}, f"Now using account {account.name}.")
    return 0


def remove_account(ctx: Any, args: argparse.Namespace) -> int:
    store = AccountStore(ctx.paths.config_dir)
    account = store.get(args.name)
    removed = logout(account, _secrets(ctx))
    store.remove(account.name)
    ctx.out(
        {"removed": account.name, "secrets_removed": removed},
        f"Removed account {account.name} and its secrets. Its local copy of your chats stays on disk.",
    )
    return 0


def login_command(ctx: Any, args: argparse.Namespace) -> int:
    store = AccountStore(ctx.paths.config_dir)
    account = store.resolve(getattr(args, "account", None))
    secrets = _secrets(ctx)
    if account.auth == "cognito":
        password = _read_secret(ctx, f"Password for {account.username}: ", args.password_stdin)
        new_password = None if args.password_stdin else _ask_new_password
        session = login(account, secrets, password, new_password_prompt=new_password)
    elif account.auth == "keys":
        secret = _read_secret(ctx, "Secret access key: ", args.password_stdin)
        session = login(account, secrets, secret)
    else:
        session = open_session(account, secrets)
    store.remember_user_id(account.name, session.user_id)
    _warn_if_memory_only(ctx, secrets, account.auth in ("keys", "cognito"))
    ctx.out(
        {"account": account.name, "user_id": session.user_id, "signed_in": True},
        f"Signed in to {account.name} as user {session.user_id}.",
    )
    return 0


def logout_command(ctx: Any, args: argparse.Namespace) -> int:
    store = AccountStore(ctx.paths.config_dir)
    account = store.resolve(getattr(args, "account", None))
    mirror = _mirror_path(ctx, account)
    unsent = _unsent_changes(mirror, account)
    if unsent and not args.force:
        what = (
            "would be lost with the local copy"
            if args.delete_mirror
            else "stay queued until you sign in again"
        )
        raise InvalidInput(
            f"{unsent} change(s) of {account.name} have not been sent yet and {what}. "
            "Run 'galileio-desktop sync' first, or sign out with --force."
        )
    removed = logout(account, _secrets(ctx))
    deleted = _delete_mirror(mirror) if args.delete_mirror else False
    text = f"Signed out of {account.name}; its secrets were removed from the keyring."
    if unsent:
        text += f" {unsent} unsent change(s) " + ("were deleted." if deleted else "stay queued.")
    if deleted:
        text += " Its local copy of your chats was deleted."
    ctx.out(
        {
            "account": account.name,
            "secrets_removed": removed,
            "unsent_changes": unsent,
            "mirror_deleted": deleted,
        },
        text,
    )
    return 0


# -- helpers -----------------------------------------------------------------------------


def _secrets(ctx: Any) -> SecretStore:
    """The process's secret store: the context's, when it keeps one, so that secrets held
    in memory (no keyring) live as long as the process."""
    store = getattr(ctx, "secrets", None)
    if isinstance(store, SecretStore):
        return store
    store = SecretStore()
    try:
        ctx.secrets = store
    except AttributeError:  # pragma: no cover - a context that does not take attributes
        pass
    return store


def _warn_if_memory_only(ctx: Any, secrets: SecretStore, has_secret: bool) -> None:
    if has_secret and not secrets.usable and secrets.warning:
        _info(ctx, f"warning: {secrets.warning}")


def _info(ctx: Any, text: str) -> None:
    info = getattr(ctx, "info", None)
    if callable(info):
        info(text)
    else:
        sys.stderr.write(text + "\n")


def _read_secret(ctx: Any, prompt: str, from_stdin: bool) -> str:
    """One secret: the first line of stdin, or a hidden prompt on the terminal."""
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise InvalidInput(
                "No terminal to ask for the secret: pipe it in with --password-stdin / --secret-stdin."
            )
        value = getpass.getpass(prompt)
    if not value:
        raise InvalidInput("No secret was given.")
    return value


def _ask_new_password() -> str | None:
    """NEW_PASSWORD_REQUIRED: ask twice on the terminal."""
    if not sys.stdin.isatty():
        raise CredentialsError("A new password must be chosen at first sign-in; run 'login' in a terminal.")
    sys.stderr.write("Your administrator asks you to choose a new password.\n")
    first = getpass.getpass("New password: ")
    if not first:
        return None
    if getpass.getpass("New password again: ") != first:
        raise InvalidInput("The two new passwords differ; nothing was changed.")
    return first


def _mirror_path(ctx: Any, account: Account) -> Path | None:
    """Where the account's local copy is (None when the user id is not known yet)."""
    user_id = account.effective_user_id
    if not user_id:
        return None
    from ..data.mirror.database import mirror_path_for

    return Path(
        mirror_path_for(
            ctx.paths.data_dir, user_id, account.table, account.endpoint_url, region=account.region
        )
    )


def _unsent_changes(mirror: Path | None, account: Account) -> int:
    """Pending and parked operations in the account's outbox (0 without a local copy)."""
    if mirror is None or not mirror.exists():
        return 0
    from ..data.sync.library import ChatLibrary

    library = ChatLibrary(mirror, str(account.effective_user_id), None)
    try:
        status = library.status()
        return int(status.pending) + int(status.parked)
    finally:
        library.close()


def _delete_mirror(mirror: Path | None) -> bool:
    if mirror is None or not mirror.exists():
        return False
    for path in (
        mirror,
        *(mirror.with_name(mirror.name + suffix) for suffix in ("-wal", "-shm", "-journal")),
    ):
        path.unlink(missing_ok=True)
    log.info("local copy of an account deleted at sign-out")
    return True


def _describe(account: Account, current: str | None) -> dict[str, Any]:
    """An account for output: its settings (never a secret) and whether it is current."""
    data = account.to_json()
    data["current"] = account.name == current
    return data
