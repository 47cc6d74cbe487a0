"""A Galileo deployment reached through its API: moto's Cognito and DynamoDB, and the
API stand-in of :mod:`galileio_desktop.demo_api` in front of the table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from keyring.backends import fail
from servers import dynamodb_client
from test_auth_cognito import PASSWORD, REGION, TABLE, Deployment, create_deployment

from galileio_desktop.data.assistants.local_docs import LocalDocsAssistant
from galileio_desktop.data.assistants.settings import AssistantSettings
from galileio_desktop.data.auth.accounts import Account
from galileio_desktop.data.auth.secrets import SecretStore
from galileio_desktop.data.auth.sessions import login
from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.paths import AppPaths
from galileio_desktop.demo import demo_documents_dir
from galileio_desktop.demo_api import ApiStandIn, CognitoIdTokens, SigningKey, start_stand_in
from galileio_desktop.workspace import Workspace

#: The keys moto's identity pool hands every identity.
MOTO_KEYS = {"TESTACCESSKEY12345": SigningKey("ABCSECRETKEY", "ABC12345")}


@dataclass
class ApiDeployment:
    cognito: Deployment
    stand_in: ApiStandIn
    endpoint: str
    tmp: Path

    def account(self, name: str = "web", username: str = "alice") -> Account:
        return Account(
            name=name,
            auth="cognito",
            region=REGION,
            table=None,
            user_pool_id=self.cognito.pool_id,
            client_id=self.cognito.client_id,
            identity_pool_id=self.cognito.identity_pool_id,
            username=username,
            transport="api",
            api_url=self.stand_in.url,
        )

    def workspace(self, username: str = "alice", name: str = "web") -> Workspace:
        """A signed-in workspace of the user on the API transport."""
        if username not in self.cognito.users:
            self.cognito.add_user(username)
        secrets = SecretStore(fail.Keyring())
        account = self.account(name, username)
        session = login(account, secrets, PASSWORD)
        account = replace(account, user_id=session.user_id)
        session.account = account
        workspace = Workspace(account, AppPaths.resolve(self.tmp / name))
        workspace.secrets = secrets
        workspace.use_session(session)
        return workspace

    def table_gateway(self, user_id: str) -> ChatGateway:
        """The same user's chats straight from the table."""
        return ChatGateway(dynamodb_client(self.endpoint), TABLE, user_id)


@contextmanager
def api_deployment_on(moto_endpoint: str, tmp_path: Path) -> Iterator[ApiDeployment]:
    """A user pool, identity pool and table on moto's server, and the stand-in before them
    (AWS_ENDPOINT_URL must name moto's server)."""
    cognito = create_deployment(moto_endpoint)
    docs = AssistantSettings(backend="local-docs", docs_dir=str(demo_documents_dir()))
    assistant: Any = LocalDocsAssistant(docs, tmp_path / "stand-in-index.sqlite3")
    identity = CognitoIdTokens(moto_endpoint, REGION, cognito.pool_id, cognito.client_id)
    stand_in = start_stand_in(
        dynamodb_client(moto_endpoint), TABLE, REGION, MOTO_KEYS, identity, assistant=assistant
    )
    try:
        yield ApiDeployment(cognito, stand_in, moto_endpoint, tmp_path)
    finally:
        stand_in.stop()
