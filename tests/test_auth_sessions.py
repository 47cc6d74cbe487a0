"""Sessions for AWS profiles (SSO included), access keys, the environment and the demo;
and the log redaction that keeps botocore's debug output free of secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from botocore.exceptions import SSOTokenLoadError, TokenRetrievalError, UnauthorizedSSOTokenError
from keyring.backends import fail

from galileio_desktop.data.auth.accounts import Account
from galileio_desktop.data.auth.redaction import install_log_redaction, redact, register_secret
from galileio_desktop.data.auth.secrets import SECRET_ACCESS_KEY, SecretStore
from galileio_desktop.data.auth.sessions import login, logout, open_session
from galileio_desktop.data.aws_errors import credentials_error
from galileio_desktop.data.errors import CredentialsError, InvalidInput


@pytest.fixture
def secrets() -> SecretStore:
    return SecretStore(fail.Keyring())


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS config with a key profile and an SSO profile; HOME with no SSO token cache."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    config = home / ".aws" / "config"
    config.write_text(
        "[profile analyst]\n"
        "region = eu-central-1\n"
        "[profile corp-sso]\n"
        "sso_session = corp\n"
        "sso_account_id = 111122223333\n"
        "sso_role_name = Analyst\n"
        "region = eu-central-1\n"
        "[sso-session corp]\n"
        "sso_start_url = https://galileio-test.awsapps.com/start\n"
        "sso_region = eu-central-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    credentials = home / ".aws" / "credentials"
    credentials.write_text(
        "[analyst]\naws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = profile-secret\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    return home


def profile_account(profile: str) -> Account:
    return Account(
        name="p", auth="profile", region="eu-central-1", table="t", aws_profile=profile, user_id="u-1"
    )


def keys_account() -> Account:
    return Account(
        name="lab", auth="keys", region="us-east-1", table="t", access_key_id="AKIALAB", user_id="lab-1"
    )


def test_profile_session_uses_the_profile(aws_files: Path, secrets: SecretStore) -> None:
    session = open_session(profile_account("analyst"), secrets)
    frozen = session.boto3_session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIAPROFILEKEY", "profile-secret")
    assert session.user_id == "u-1"
    assert session.id_token() is None


def test_missing_profile_is_named(aws_files: Path, secrets: SecretStore) -> None:
    with pytest.raises(CredentialsError, match="no AWS profile named 'nope'"):
        open_session(profile_account("nope"), secrets)


def test_expired_sso_sign_in_names_the_command_that_renews_it(aws_files: Path, secrets: SecretStore) -> None:
    with pytest.raises(CredentialsError, match="aws sso login --profile corp-sso"):
        open_session(profile_account("corp-sso"), secrets)


@pytest.mark.parametrize(
    "error",
    [
        SSOTokenLoadError(error_msg="Token for corp does not exist"),
        UnauthorizedSSOTokenError(),
        TokenRetrievalError(provider="sso", error_msg="expired"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_sso_errors_mid_session_become_credentials_errors(error: Exception) -> None:
    translated = credentials_error(error, profile_account("corp-sso"))
    assert isinstance(translated, CredentialsError)
    assert "aws sso login --profile corp-sso" in translated.message
    assert credentials_error(ValueError("unrelated"), profile_account("x")) is None


def test_keys_secret_comes_from_the_keyring(secrets: SecretStore) -> None:
    account = keys_account()
    with pytest.raises(CredentialsError, match="login"):
        open_session(account, secrets)

    session = login(account, secrets, "lab-secret-value")
    assert secrets.get("lab", SECRET_ACCESS_KEY) == "lab-secret-value"
    frozen = session.boto3_session.get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("AKIALAB", "lab-secret-value")
    assert open_session(account, secrets).user_id == "lab-1"

    assert logout(account, secrets) == [SECRET_ACCESS_KEY]
    asked: list[bool] = []

    def prompt() -> str:
        asked.append(True)
        return "typed-secret-value"

    session = open_session(account, secrets, password_prompt=prompt)
    assert asked == [True]
    assert session.boto3_session.get_credentials().get_frozen_credentials().secret_key == "typed-secret-value"


def test_env_and_demo_sessions(monkeypatch: pytest.MonkeyPatch, secrets: SecretStore) -> None:
    env = Account(name="env", auth="env", region="us-east-1", table="t", user_id="env-user")
    session = open_session(env, secrets)
    assert session.user_id == "env-user"
    assert session.boto3_session.get_credentials().get_frozen_credentials().access_key == "testing"
    with pytest.raises(InvalidInput, match="--user-id"):
        open_session(Account(name="env", auth="env", region="us-east-1", table="t"), secrets)

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    demo = open_session(Account(name="demo", auth="demo", region="us-east-1", table="t"), secrets)
    assert demo.user_id == "demo-user"
    assert demo.boto3_session.get_credentials().get_frozen_credentials().access_key == "demo"


# -- redaction ---------------------------------------------------------------------------


def test_registered_secrets_are_redacted_in_every_encoding() -> None:
    secret = 'pä"ss\\word-42'
    register_secret(secret)
    body = (
        b'{"USERNAME": "alice", "NEW": "' + secret.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"}'
    )
    for text in (f"plain {secret} text", repr(body), body.decode("utf-8")):
        assert "42" not in redact(text), text
    register_secret("abc")  # too short to redact safely: ignored
    assert redact("abc") == "abc"


def test_secret_fields_and_tokens_are_redacted_before_we_know_them() -> None:
    response = (
        'Response body:\nb\'{"AuthenticationResult": {"AccessToken": "eyJraWQiOiJhIn0.eyJzdWIiOiJ4In0.c2ln", '
        '"RefreshToken": "opaque-refresh-value", "IdToken": "eyJhbGciOiJub25lIn0.e30."}}\''
    )
    cleaned = redact(response)
    assert "opaque-refresh-value" not in cleaned
    assert "eyJ" not in cleaned
    assert '"RefreshToken": "***"' in cleaned
    headers = "Sending http request: headers={'X-Amz-Security-Token': b'FwoGZXIvYXdzEXAMPLE', 'Host': 'x'}"
    assert "FwoGZXIvYXdzEXAMPLE" not in redact(headers)
    canonical = "CanonicalRequest:\nPOST\n/\n\nx-amz-security-token:FwoGZXIvYXdzEXAMPLE\nx-amz-target:x\n"
    assert "FwoGZXIvYXdzEXAMPLE" not in redact(canonical)
    credentials = (
        '{"Credentials": {"AccessKeyId": "ASIAKEY", "SecretKey": "wJalr/secret", "SessionToken": "tok+en"}}'
    )
    assert (
        redact(credentials)
        == '{"Credentials": {"AccessKeyId": "ASIAKEY", "SecretKey": "***", "SessionToken": "***"}}'
    )


def test_botocore_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    register_secret("registered-secret-value")
    caplog.set_level(logging.DEBUG, logger="botocore")
    logging.getLogger("botocore.endpoint").debug(
        "Making request with params: %s", {"x": "registered-secret-value"}
    )
    logging.getLogger("botocore.parsers").debug(
        "Response body:\n%r", b'{"RefreshToken": "fresh-unknown-token"}'
    )
    text = caplog.text
    assert "Making request" in text and "Response body" in text
    assert "registered-secret-value" not in text
    assert "fresh-unknown-token" not in text
