"""The Cognito sign-in flow over real HTTP, against moto's cognito-idp and cognito-identity.

Every AWS client of the app finds the server through botocore's own endpoint
settings (``AWS_ENDPOINT_URL``), exactly as a user would point it at a local
endpoint. What moto does not do, and how it is covered instead:

- moto does not verify the SRP password proof (getmoto/moto#7562): any password
  signs in. The SRP arithmetic and the wrong-password path are checked against a
  verifying server in ``test_auth_srp.py``.
- moto has no RevokeToken (sign-out revokes best effort, so it is logged and the
  local secrets still go); GlobalSignOut stands in for a revoked refresh token.
- moto's identity pool does not check the Logins token and always hands out the
  same credentials, valid 90 s; renewal is observed through the renewal counters
  and the GetCredentialsForIdentity calls.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from keyring.backends import fail
from servers import create_galileo_table, dynamodb_client, free_port

from galileio_desktop.data.auth.accounts import Account
from galileio_desktop.data.auth.cognito import UnsupportedChallenge, UserPool
from galileio_desktop.data.auth.secrets import REFRESH_TOKEN, SecretStore
from galileio_desktop.data.auth.sessions import AccountSession, login, logout, open_session
from galileio_desktop.data.auth.tokens import TokenKeeper, jwt_claims
from galileio_desktop.data.errors import CredentialsError, EndpointUnreachable, InvalidInput

REGION = "us-east-1"
TABLE = "galileo-auth-test"
PASSWORD = "Correct-Horse-7-Battery"


@dataclass
class Deployment:
    """A user pool, app client, identity pool and chat table on moto's server."""

    endpoint: str
    idp: Any
    pool_id: str
    client_id: str
    identity_pool_id: str
    users: dict[str, str] = field(default_factory=dict)

    def add_user(self, username: str, password: str = PASSWORD, *, temporary: bool = False) -> str:
        """Create a user (CONFIRMED, or FORCE_CHANGE_PASSWORD when ``temporary``); its sub."""
        self.idp.admin_create_user(
            UserPoolId=self.pool_id, Username=username, TemporaryPassword=password, MessageAction="SUPPRESS"
        )
        if not temporary:
            self.idp.admin_set_user_password(
                UserPoolId=self.pool_id, Username=username, Password=password, Permanent=True
            )
        attributes = self.idp.admin_get_user(UserPoolId=self.pool_id, Username=username)["UserAttributes"]
        sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
        self.users[username] = sub
        return str(sub)

    def account(self, name: str = "work", username: str = "alice") -> Account:
        return Account(
            name=name,
            auth="cognito",
            region=REGION,
            table=TABLE,
            user_pool_id=self.pool_id,
            client_id=self.client_id,
            identity_pool_id=self.identity_pool_id,
            username=username,
        )


def create_deployment(endpoint: str) -> Deployment:
    """The resources an administrator creates with deploy/galileio-desktop.yaml."""
    admin = boto3.Session(aws_access_key_id="admin", aws_secret_access_key="admin", region_name=REGION)
    idp = admin.client("cognito-idp", endpoint_url=endpoint)
    pool_id = idp.create_user_pool(
        PoolName="galileio",
        Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireNumbers": True}},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="desktop",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    identity_pool_id = admin.client("cognito-identity", endpoint_url=endpoint).create_identity_pool(
        IdentityPoolName="galileio",
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            {"ProviderName": f"cognito-idp.{REGION}.amazonaws.com/{pool_id}", "ClientId": client_id}
        ],
    )["IdentityPoolId"]
    create_galileo_table(dynamodb_client(endpoint), TABLE)
    return Deployment(endpoint, idp, pool_id, client_id, identity_pool_id)


@pytest.fixture
def deployment(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return create_deployment(moto_endpoint)


@pytest.fixture
def memory_secrets() -> SecretStore:
    """No keyring: secrets in memory for the test (the keyring has its own tests)."""
    return SecretStore(fail.Keyring())


class Clock:
    """Real time plus an offset the test can move forward."""

    def __init__(self) -> None:
        import time

        self._time = time.time
        self.offset = 0.0

    def __call__(self) -> float:
        return self._time() + self.offset


@dataclass
class Calls:
    """The Cognito and DynamoDB operations a session sent, and with which key id."""

    operations: list[str] = field(default_factory=list)
    key_ids: list[str] = field(default_factory=list)

    def count(self, name: str) -> int:
        return self.operations.count(name)


def watch(client: Any, calls: Calls) -> None:
    def on_send(request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        target = target.decode() if isinstance(target, bytes) else target
        calls.operations.append(target.rsplit(".", 1)[-1])
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        if "Credential=" in auth:
            calls.key_ids.append(auth.split("Credential=")[1].split("/")[0])

    client.meta.events.register("before-send", on_send)


def table_client(session: AccountSession, calls: Calls | None = None) -> Any:
    client = session.boto3_session.client("dynamodb", region_name=REGION)
    session.guard(client)
    if calls is not None:
        watch(client, calls)
    return client


def put_chat(client: Any, user_id: str, chat_id: str) -> None:
    client.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": user_id},
            "SK": {"S": f"CHAT#{chat_id}"},
            "GSI1PK": {"S": f"{user_id}#CHAT"},
            "GSI1SK": {"S": "1700000000000"},
            "chatId": {"S": chat_id},
            "title": {"S": "hello"},
        },
    )


def list_chat_ids(client: Any, user_id: str) -> list[str]:
    items = client.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{user_id}#CHAT"}},
    )["Items"]
    return sorted(item["chatId"]["S"] for item in items)


def watch_session(session: AccountSession, calls: Calls) -> None:
    """Record the session's own Cognito calls (renewals)."""
    assert session.keeper is not None
    watch(session.keeper.pool.client, calls)
    assert session.identity is not None
    watch(session.identity.client, calls)


# -- the whole flow ----------------------------------------------------------------------


def test_sign_in_use_renew_sign_out(deployment: Deployment, memory_secrets: SecretStore) -> None:
    sub = deployment.add_user("alice")
    account = deployment.account()

    session = login(account, memory_secrets, PASSWORD)

    assert session.user_id == sub
    id_token = session.id_token()
    assert id_token is not None and jwt_claims(id_token)["sub"] == sub
    refresh_token = memory_secrets.get(account.name, REFRESH_TOKEN)
    assert refresh_token and refresh_token not in id_token

    table_calls = Calls()
    client = table_client(session, table_calls)
    put_chat(client, session.user_id, "c1")
    assert list_chat_ids(client, session.user_id) == ["c1"]
    # Signed with the identity pool's credentials, not the environment's.
    assert set(table_calls.key_ids) == {"TESTACCESSKEY12345"}

    cognito_calls = Calls()
    watch_session(session, cognito_calls)
    session.renew()
    put_chat(client, session.user_id, "c2")
    assert list_chat_ids(client, session.user_id) == ["c1", "c2"]
    assert cognito_calls.count("InitiateAuth") == 1  # REFRESH_TOKEN_AUTH
    assert cognito_calls.count("GetCredentialsForIdentity") == 1
    assert session.keeper is not None and session.keeper.renewals == 1
    assert session.credentials is not None and session.credentials.renewals == 1
    assert session.id_token() != id_token
    assert jwt_claims(str(session.id_token()))["sub"] == sub

    removed = logout(account, memory_secrets)
    assert removed == [REFRESH_TOKEN]
    assert memory_secrets.get(account.name, REFRESH_TOKEN) is None
    with pytest.raises(CredentialsError, match="login"):
        open_session(account, memory_secrets)


def test_stored_sign_in_opens_a_session_without_password(
    deployment: Deployment, memory_secrets: SecretStore
) -> None:
    sub = deployment.add_user("alice")
    account = deployment.account()
    login(account, memory_secrets, PASSWORD)

    def no_password() -> str:
        raise AssertionError("the stored refresh token must be enough")

    session = open_session(account, memory_secrets, password_prompt=no_password)
    assert session.user_id == sub
    put_chat(table_client(session), sub, "from-refresh")
    assert list_chat_ids(table_client(session), sub) == ["from-refresh"]


def test_credentials_renew_before_they_expire_in_a_long_sync(
    deployment: Deployment, memory_secrets: SecretStore
) -> None:
    """moto's identity credentials last 90 s: requests near expiry renew them first."""
    deployment.add_user("alice")
    clock = Clock()
    session = login(deployment.account(), memory_secrets, PASSWORD, clock=clock)
    calls = Calls()
    watch_session(session, calls)
    client = table_client(session)
    first_expiry = session.credentials_expiry
    assert first_expiry is not None

    for n in range(3):
        put_chat(client, session.user_id, f"early-{n}")
    assert calls.count("GetCredentialsForIdentity") == 0

    clock.offset = 75  # inside the last quarter of the credentials' life
    for n in range(3):
        put_chat(client, session.user_id, f"late-{n}")
    assert calls.count("GetCredentialsForIdentity") >= 1
    assert session.credentials_expiry is not None and session.credentials_expiry > first_expiry
    assert calls.count("InitiateAuth") == 0  # the ID token was still fresh
    assert len(list_chat_ids(client, session.user_id)) == 6


def test_tokens_renew_silently_before_they_expire(deployment: Deployment) -> None:
    deployment.add_user("alice")
    pool = UserPool(deployment.pool_id, deployment.client_id)
    clock = Clock()
    tokens = pool.sign_in("alice", PASSWORD, now=clock)
    rotated: list[str] = []
    keeper = TokenKeeper(pool, tokens, clock=clock, on_refresh_token=rotated.append)

    assert keeper.id_token() == tokens.id_token
    assert keeper.renewals == 0
    clock.offset = tokens.expires_at - clock() - 60  # one minute before expiry
    renewed = keeper.id_token()
    assert renewed != tokens.id_token
    assert keeper.renewals == 1
    assert keeper.user_id == jwt_claims(renewed)["sub"]
    assert rotated == []  # moto does not rotate refresh tokens


def test_failed_renewal_asks_to_sign_in_again(deployment: Deployment, memory_secrets: SecretStore) -> None:
    deployment.add_user("alice")
    account = deployment.account()
    session = login(account, memory_secrets, PASSWORD)
    client = table_client(session)
    put_chat(client, session.user_id, "before")

    # The administrator signs the user out everywhere: the refresh token dies.
    deployment.idp.admin_user_global_sign_out(UserPoolId=deployment.pool_id, Username="alice")
    session.renew()
    with pytest.raises(CredentialsError, match="please sign in again"):
        put_chat(client, session.user_id, "after")

    # A new start finds the dead token, drops it and asks for the password.
    with pytest.raises(CredentialsError, match="expired.*login"):
        open_session(account, memory_secrets)
    assert memory_secrets.get(account.name, REFRESH_TOKEN) is None
    again = open_session(account, memory_secrets, password_prompt=lambda: PASSWORD)
    assert list_chat_ids(table_client(again), again.user_id) == ["before"]


def test_new_password_required_at_first_sign_in(deployment: Deployment, memory_secrets: SecretStore) -> None:
    deployment.add_user("bob", "Temporary-Pass-1", temporary=True)
    account = deployment.account(username="bob")

    with pytest.raises(CredentialsError, match="new password"):
        login(account, memory_secrets, "Temporary-Pass-1")
    with pytest.raises(InvalidInput, match="new password was refused"):
        login(account, memory_secrets, "Temporary-Pass-1", new_password_prompt=lambda: "short")
    with pytest.raises(CredentialsError, match="cancelled"):
        login(account, memory_secrets, "Temporary-Pass-1", new_password_prompt=lambda: None)

    asked: list[bool] = []

    def choose() -> str:
        asked.append(True)
        return "Brand-New-Password-2"

    session = login(account, memory_secrets, "Temporary-Pass-1", new_password_prompt=choose)
    assert asked == [True]
    assert session.user_id == deployment.users["bob"]
    user = deployment.idp.admin_get_user(UserPoolId=deployment.pool_id, Username="bob")
    assert user["UserStatus"] == "CONFIRMED"


def test_mfa_challenge_gets_a_clear_message(deployment: Deployment, memory_secrets: SecretStore) -> None:
    deployment.add_user("carol")
    deployment.idp.admin_set_user_mfa_preference(
        UserPoolId=deployment.pool_id,
        Username="carol",
        SMSMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    with pytest.raises(UnsupportedChallenge, match="text message.*SMS_MFA.*does not support") as caught:
        login(deployment.account(username="carol"), memory_secrets, PASSWORD)
    assert caught.value.challenge == "SMS_MFA"
    assert memory_secrets.get("work", REFRESH_TOKEN) is None


def test_unknown_user_and_pool_are_reported(deployment: Deployment, memory_secrets: SecretStore) -> None:
    with pytest.raises(CredentialsError):
        login(deployment.account(username="nobody"), memory_secrets, PASSWORD)
    bad_client = Account(**{**deployment.account().__dict__, "client_id": "nosuchclient"})
    with pytest.raises(CredentialsError, match="check the account's settings"):
        login(bad_client, memory_secrets, PASSWORD)


def test_service_specific_endpoint_settings_are_honoured(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore
) -> None:
    """Only the per-service variables point at the server; nothing else is configured."""
    deployment = create_deployment(moto_endpoint)
    sub = deployment.add_user("alice")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_endpoint)
    session = login(deployment.account(), memory_secrets, PASSWORD)
    assert session.user_id == sub
    put_chat(table_client(session), sub, "c")
    assert list_chat_ids(table_client(session), sub) == ["c"]


def test_unreachable_cognito_means_offline(
    monkeypatch: pytest.MonkeyPatch, memory_secrets: SecretStore
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    account = Account(
        name="work",
        auth="cognito",
        region=REGION,
        table=TABLE,
        user_pool_id=f"{REGION}_offline",
        client_id="client",
        identity_pool_id=f"{REGION}:00000000-0000-0000-0000-000000000000",
        username="alice",
    )
    with pytest.raises(EndpointUnreachable, match="offline"):
        login(account, memory_secrets, PASSWORD)
    memory_secrets.set("work", REFRESH_TOKEN, "stored-refresh-token-value")
    with pytest.raises(EndpointUnreachable):
        open_session(account, memory_secrets)
    # Being offline is no reason to forget the sign-in.
    assert memory_secrets.get("work", REFRESH_TOKEN) == "stored-refresh-token-value"
    # Signing out works offline: the secret goes even though revoking could not be sent.
    assert logout(account, memory_secrets) == [REFRESH_TOKEN]


def test_id_token_payload_is_read_without_verifying() -> None:
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "abc", "exp": 5}).encode()).rstrip(b"=").decode()
    assert jwt_claims(f"header.{payload}.signature") == {"sub": "abc", "exp": 5}
    for broken in ("no-dots", "a.!!!.c", f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c"):
        with pytest.raises(CredentialsError, match="sign in again"):
            jwt_claims(broken)
