"""Accounts without ids to copy: the administrator's account file, and the website's address.

The account file is the one ``deploy/galileio-desktop.yaml`` produces as its
``DesktopAccountFile`` output, filled in with a moto deployment's ids as
CloudFormation fills in ``!Sub``. Then, through the real command line parser and
handlers: import, sign in with a password on stdin, list the user's chats. The
website path does the same with a real local server serving ``runtime-config.json``.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from keyring.backends import SecretService, fail
from test_auth_cli import restored_logging  # noqa: F401 - fixture
from test_auth_cognito import PASSWORD, REGION, TABLE, Deployment, create_deployment
from test_keyring_secret_service import secret_service, stored_items  # noqa: F401 - fixture
from test_ui_sign_in_cognito import seed_chats
from website_server import WebsiteServer, runtime_config

from galileio_desktop.cli.context import Context
from galileio_desktop.cli.main import build_parser, run
from galileio_desktop.data.auth.account_file import FORMAT, parse_account_file, read_account_file
from galileio_desktop.data.auth.accounts import AccountStore
from galileio_desktop.data.auth.secrets import REFRESH_TOKEN, SecretStore
from galileio_desktop.data.errors import GalileioError, InvalidInput
from galileio_desktop.data.paths import AppPaths

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "galileio-desktop.yaml"


@pytest.fixture
def deployment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return create_deployment(moto_endpoint)


@pytest.fixture
def website() -> Iterator[WebsiteServer]:
    server = WebsiteServer()
    yield server
    server.stop()


def deploy_output(deployment: Deployment, inference_url: str = "") -> str:
    """The stack's DesktopAccountFile output for this deployment, as CloudFormation renders it."""
    from cfnlint.decode import cfn_yaml

    template = cfn_yaml.load(str(TEMPLATE))
    value = template["Outputs"]["DesktopAccountFile"]["Value"]["Fn::Sub"]
    values = {
        "AWS::Region": REGION,
        "ChatTable": TABLE,
        "UserPool": deployment.pool_id,
        "DesktopClient": deployment.client_id,
        "IdentityPool": deployment.identity_pool_id,
        "InferenceUrl": inference_url,
    }
    rendered = re.sub(r"\$\{([^}]+)\}", lambda m: values[m.group(1)], str(value))
    assert "${" not in rendered
    return rendered


def cli(data_dir: Path, secrets: SecretStore, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """One command through the real parser and handlers; (exit code, stdout, stderr)."""
    args = build_parser().parse_args(["--data-dir", str(data_dir), *argv])
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(args=args, paths=AppPaths.resolve(data_dir), json=bool(args.json), stdout=out, stderr=err)
    ctx.secrets = secrets  # type: ignore[attr-defined]
    saved, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        try:
            code = int(args.func(ctx, args))
        except GalileioError as exc:
            err.write(exc.message + "\n")
            code = exc.exit_code
        finally:
            ctx.close()
    finally:
        sys.stdin = saved
    return code, out.getvalue(), err.getvalue()


def sign_in_and_list(data_dir: Path, secrets: SecretStore, account: str) -> list[str]:
    """``--account NAME login --password-stdin``, then ``chats list``: the titles listed."""
    code, out, err = cli(
        data_dir, secrets, "--account", account, "login", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert code == 0, err
    code, out, err = cli(data_dir, secrets, "--json", "--account", account, "chats", "list")
    assert code == 0, err
    return sorted(chat["title"] for chat in json.loads(out))


def test_the_deploy_output_imports_and_signs_in_with_two_values(
    deployment: Deployment, data_dir: Path, tmp_path: Path
) -> None:
    alice = deployment.add_user("alice")
    seed_chats(deployment.endpoint, alice, ["Quarterly numbers", "Travel policy"])
    seed_chats(deployment.endpoint, deployment.add_user("bob"), ["Bob's own"])
    output = deploy_output(deployment, inference_url="https://abc.lambda-url.us-east-1.on.aws/")
    account_file = tmp_path / "galileo.json"
    account_file.write_text(output, encoding="utf-8")
    assert json.loads(output)["format"] == FORMAT
    secrets = SecretStore(fail.Keyring())

    code, out, err = cli(data_dir, secrets, "account", "import", str(account_file), "--username", "alice")
    assert code == 0, err
    assert "Added account galileo" in out and "chats through the table" in out
    assert (
        f"Account file: region {REGION}, table {TABLE}, user pool {deployment.pool_id}, an assistant." in err
    )
    account = AccountStore(AppPaths.resolve(data_dir).config_dir).get("galileo")
    assert (account.user_pool_id, account.client_id, account.identity_pool_id) == (
        deployment.pool_id,
        deployment.client_id,
        deployment.identity_pool_id,
    )
    assert account.assistant == {"backend": "galileo", "url": "https://abc.lambda-url.us-east-1.on.aws/"}

    assert sign_in_and_list(data_dir, secrets, "galileo") == ["Quarterly numbers", "Travel policy"]
    assert AccountStore(AppPaths.resolve(data_dir).config_dir).get("galileo").user_id == alice
    assert secrets.get("galileo", REFRESH_TOKEN)

    # A second import of the same file gets a name of its own; nothing is overwritten.
    code, out, _ = cli(data_dir, secrets, "account", "import", str(account_file), "--username", "bob")
    assert code == 0 and "Added account galileo-2" in out


def test_a_deploy_output_without_an_assistant_imports_without_one(
    deployment: Deployment, tmp_path: Path
) -> None:
    path = tmp_path / "a.json"
    path.write_text(deploy_output(deployment), encoding="utf-8")
    found = read_account_file(path)
    assert found.inference_url is None and found.table == TABLE and found.index == "GSI1"
    assert found.account("carol").assistant == {}


def test_the_website_address_user_name_and_password_are_enough(
    deployment: Deployment, website: WebsiteServer, data_dir: Path
) -> None:
    alice = deployment.add_user("alice")
    seed_chats(deployment.endpoint, alice, ["Found through the website"])
    website.serve_json(
        runtime_config(REGION, deployment.pool_id, deployment.client_id, deployment.identity_pool_id)
    )
    secrets = SecretStore(fail.Keyring())
    code, out, err = cli(
        data_dir,
        secrets,
        "account",
        "add",
        "work",
        "--website",
        website.url,
        "--username",
        "alice",
        "--table",
        TABLE,
    )
    assert code == 0, err
    assert f"Found Galileo at {website.url}/: region {REGION}, user pool {deployment.pool_id}" in err
    account = AccountStore(AppPaths.resolve(data_dir).config_dir).get("work")
    assert account.website == website.url + "/" and account.transport == "dynamodb"
    assert account.api_url == "https://abc123.execute-api.us-east-1.amazonaws.com/prod/"
    assert sign_in_and_list(data_dir, secrets, "work") == ["Found through the website"]


def test_without_a_table_the_website_account_uses_the_api(website: WebsiteServer, data_dir: Path) -> None:
    website.serve_json(runtime_config("eu-west-1", "eu-west-1_Pool1", "client1", "eu-west-1:0000-1111"))
    secrets = SecretStore(fail.Keyring())
    code, out, err = cli(
        data_dir, secrets, "--json", "account", "add", "w", "--website", website.url, "--username", "ana"
    )
    assert code == 0, err
    assert json.loads(out)["transport"] == "api" and json.loads(out)["table"] == ""
    code, out, err = cli(
        data_dir,
        secrets,
        "--json",
        "account",
        "add",
        "w2",
        "--website",
        website.url,
        "--username",
        "ana",
        "--transport",
        "dynamodb",
    )
    assert code == 2 and "a table is required" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--username", "ana"], "cannot be reached"),
        (["--username", "ana", "--auth", "keys"], "leave out --auth"),
        (["--username", "ana", "--user-pool-id", "eu-west-1_X"], "--user-pool-id does not go with --website"),
        ([], "needs --username"),
    ],
)
def test_a_bad_website_account_is_one_line_with_its_exit_code(
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    restored_logging: None,  # noqa: F811 - fixture
    argv: list[str],
    message: str,
) -> None:
    closed = WebsiteServer()
    closed.stop()
    code = run(["--data-dir", str(data_dir), "account", "add", "w", "--website", closed.url, *argv])
    err = capsys.readouterr().err
    assert code == (3 if message == "cannot be reached" else 2)
    assert message in err and len(err.strip().splitlines()) == 1
    assert AccountStore(AppPaths.resolve(data_dir).config_dir).list() == []


GOOD_FILE = {
    "format": FORMAT,
    "region": "eu-west-1",
    "table": "galileo-chats",
    "userPoolId": "eu-west-1_AbC123",
    "clientId": "4example5",
    "identityPoolId": "eu-west-1:1234abcd-0000",
}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe garbage", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (json.dumps({**GOOD_FILE, "format": None}).encode(), '"format" is not "galileio-account/1"'),
        (json.dumps({**GOOD_FILE, "format": "galileio-account/2"}).encode(), "newer format"),
        (json.dumps({**GOOD_FILE, "password": "hunter2"}).encode(), r"looks like a secret \(password\)"),
        (json.dumps({**GOOD_FILE, "refreshToken": "x"}).encode(), "refreshToken"),
        (
            json.dumps({k: v for k, v in GOOD_FILE.items() if k != "clientId"}).encode(),
            "lacks the app client",
        ),
        (json.dumps({**GOOD_FILE, "region": 7}).encode(), r"region \(region\) that is not valid: not text"),
        (json.dumps({**GOOD_FILE, "table": "a b"}).encode(), "table .* not valid"),
        (json.dumps({**GOOD_FILE, "userPoolId": "nopool"}).encode(), "user pool id"),
        (json.dumps({**GOOD_FILE, "inferenceUrl": "http://x.example/"}).encode(), "must start with https://"),
        (json.dumps({k: v for k, v in GOOD_FILE.items() if k != "table"}).encode(), "neither a table nor"),
        (b"{" + b" " * 70_000 + b"}", "too large"),
    ],
)
def test_a_hostile_account_file_is_refused_with_what_is_wrong(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "account.json"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message) as raised:
        read_account_file(path)
    assert "\n" not in raised.value.message


def test_a_missing_file_or_a_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="There is no account file at"):
        read_account_file(tmp_path / "nope.json")
    with pytest.raises(InvalidInput, match="There is no account file at"):
        read_account_file(tmp_path)


def test_unknown_members_of_a_version_1_file_are_ignored() -> None:
    found = parse_account_file(
        json.dumps({**GOOD_FILE, "later": {"x": 1}, "name": "Prod Galileo"}).encode(), "f"
    )
    account = found.account("ana", taken=["Prod-Galileo"])
    assert account.name == "Prod-Galileo-2" and account.username == "ana" and account.table == "galileo-chats"


def test_the_account_file_sign_in_keeps_its_refresh_token_in_the_real_keyring(
    secret_service: Any,  # noqa: F811 - fixture
    deployment: Deployment,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    """The same two-value sign-in, with secrets in a real Secret Service (GNOME Keyring)."""
    alice = deployment.add_user("alice")
    seed_chats(deployment.endpoint, alice, ["In the keyring"])
    account_file = tmp_path / "galileo.json"
    account_file.write_text(deploy_output(deployment), encoding="utf-8")
    secrets = SecretStore(SecretService.Keyring())
    assert secrets.usable, secrets.warning
    code, _, err = cli(
        data_dir, secrets, "account", "import", str(account_file), "--username", "alice", "--name", "kr"
    )
    assert code == 0, err
    try:
        assert sign_in_and_list(data_dir, secrets, "kr") == ["In the keyring"]
        token = stored_items(secret_service)["kr:" + REFRESH_TOKEN]
        assert token and token not in (AppPaths.resolve(data_dir).config_dir / "accounts.json").read_text(
            encoding="utf-8"
        )
    finally:
        secrets.delete_all("kr")
    assert not [name for name in stored_items(secret_service) if name.startswith("kr:")]
