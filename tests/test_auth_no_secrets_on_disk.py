"""After a whole session no secret is on disk or in the logs, and the files are private.

The session goes through the real command line parser and handlers: add a Cognito
account, sign in (password on stdin), use the table through the gateway with the
guarded client, renew, add an access-key account, sign out, remove it. Then every
file under the data folder (config, data, logs) and every captured log line, with
botocore's request and response dumps switched on, is searched for each secret in
each encoding it could take.
"""

from __future__ import annotations

import io
import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import fail
from test_auth_cognito import PASSWORD, REGION, TABLE, Deployment, create_deployment

from galileio_desktop.cli.context import Context
from galileio_desktop.cli.main import build_parser
from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import REFRESH_TOKEN, SECRET_ACCESS_KEY, SecretStore
from galileio_desktop.data.auth.sessions import open_session
from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.paths import AppPaths, private_file
from galileio_desktop.data.schema import Chat, new_id, now_ms

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#: The test server runs in this process; its own logs are not the app's.
SERVER_LOGGERS = ("moto", "werkzeug", "flask")


def cli(data_dir: Path, secrets: SecretStore, *argv: str, stdin: str = "") -> tuple[int, str]:
    """One command, as ``galileio-desktop --data-dir DIR ...`` runs it, sharing ``secrets``."""
    args = build_parser().parse_args(["--data-dir", str(data_dir), *argv])
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(args=args, paths=AppPaths.resolve(data_dir), json=bool(args.json), stdout=out, stderr=err)
    ctx.secrets = secrets  # type: ignore[attr-defined]
    saved = __import__("sys").stdin
    __import__("sys").stdin = io.StringIO(stdin)
    try:
        code = int(args.func(ctx, args))
    finally:
        __import__("sys").stdin = saved
    return code, out.getvalue() + err.getvalue()


def run_full_session(data_dir: Path, secrets: SecretStore, deployment: Deployment) -> dict[str, str]:
    """Sign in, use, renew, sign out; the secret values that were in play.

    The user ``alice`` must exist (created before logs are captured: the test's own
    admin calls carry her password).
    """
    sub = deployment.users["alice"]
    code, _ = cli(
        data_dir,
        secrets,
        "account",
        "add",
        "work",
        "--auth",
        "cognito",
        "--region",
        REGION,
        "--table",
        TABLE,
        "--user-pool-id",
        deployment.pool_id,
        "--client-id",
        deployment.client_id,
        "--identity-pool-id",
        deployment.identity_pool_id,
        "--username",
        "alice",
    )
    assert code == 0
    code, output = cli(data_dir, secrets, "login", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, output
    assert sub in output
    store = AccountStore(AppPaths.resolve(data_dir).config_dir)
    account = store.get("work")
    assert account.user_id == sub
    refresh_token = secrets.get("work", REFRESH_TOKEN)
    assert refresh_token

    # What the worker does: a session from the stored sign-in, a guarded client, the gateway.
    session = open_session(account, secrets)
    client = make_dynamodb_client(account.region, account.endpoint_url, session.boto3_session)
    session.guard(client)
    gateway = ChatGateway(client, account.table, session.user_id, account.index)
    chat = Chat(chat_id=new_id(), user_id=session.user_id, title="Quarterly numbers", created_at=now_ms())
    gateway.create_chat(chat)
    gateway.rename_chat(chat.chat_id, "Quarterly numbers, revised", now_ms())
    id_token = str(session.id_token())
    frozen = session.boto3_session.get_credentials().get_frozen_credentials()
    session.renew()
    assert [c.title for c in gateway.list_chats()] == ["Quarterly numbers, revised"]
    gateway.close()

    code, _ = cli(
        data_dir,
        secrets,
        "account",
        "add",
        "lab",
        "--auth",
        "keys",
        "--access-key-id",
        "AKIAEXAMPLEKEYID0001",
        "--user-id",
        "lab-user",
        "--region",
        REGION,
        "--table",
        TABLE,
        "--secret-stdin",
        stdin=SECRET_KEY + "\n",
    )
    assert code == 0
    lab = open_session(store.get("lab"), secrets)
    lab_client = make_dynamodb_client(REGION, None, lab.boto3_session)
    lab.guard(lab_client)
    assert ChatGateway(lab_client, TABLE, lab.user_id).list_chats() == []

    assert cli(data_dir, secrets, "--account", "work", "logout")[0] == 0
    assert cli(data_dir, secrets, "account", "remove", "lab")[0] == 0
    assert secrets.get("work", REFRESH_TOKEN) is None
    assert secrets.get("lab", SECRET_ACCESS_KEY) is None
    return {
        "password": PASSWORD,
        "refresh token": refresh_token,
        "ID token": id_token,
        "secret access key": SECRET_KEY,
        "identity secret key": frozen.secret_key,
        "identity session token": frozen.token,
    }


def encodings(value: str) -> set[str]:
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


def assert_nothing_leaked(data_dir: Path, secrets_in_play: dict[str, str], log_text: str) -> None:
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "accounts.json" for p in files)
    for path in files:
        content = path.read_bytes()
        for what, value in secrets_in_play.items():
            for form in encodings(value):
                assert form.encode() not in content, f"{what} found in {path.relative_to(data_dir)}"
    for what, value in secrets_in_play.items():
        for form in encodings(value):
            assert form not in log_text, f"{what} found in the log output"


def assert_private(data_dir: Path) -> None:
    paths = AppPaths.resolve(data_dir)
    for folder in (paths.config_dir, paths.log_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in (p for p in data_dir.rglob("*") if p.is_file()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


@pytest.fixture
def captured_logs(data_dir: Path, caplog: pytest.LogCaptureFixture) -> Any:
    """Everything logged, botocore's wire dumps included, in caplog and in a log file."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="botocore")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    log_file = private_file(AppPaths.resolve(data_dir).log_dir / "session.log")
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.addFilter(lambda record: not record.name.startswith(SERVER_LOGGERS))
    logging.getLogger().addHandler(handler)
    try:
        yield caplog
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def app_log_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(SERVER_LOGGERS)
    )


@pytest.fixture
def alice_deployment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """A deployment with the user alice, on moto's server found through AWS_ENDPOINT_URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    deployment = create_deployment(moto_endpoint)
    deployment.add_user("alice")
    return deployment


def test_full_session_leaves_no_secret_behind(
    alice_deployment: Deployment, data_dir: Path, captured_logs: pytest.LogCaptureFixture
) -> None:
    secrets = SecretStore(fail.Keyring())

    in_play = run_full_session(data_dir, secrets, alice_deployment)

    text = app_log_text(captured_logs)
    # botocore did dump requests and responses, so the redaction was put to the test.
    assert "Response body" in text and "RefreshToken" in text
    assert_nothing_leaked(data_dir, in_play, text)
    assert_private(data_dir)
