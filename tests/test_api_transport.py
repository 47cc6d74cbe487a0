"""The deployment's API as the way to the chats: the stand-in over real HTTP, moto's
Cognito for sign-in, the same moto table behind it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_stand_in import ApiDeployment, api_deployment_on
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from galileio_desktop.data.api.gateway import NOT_STORED_REASON, ApiGateway
from galileio_desktop.data.ask import ask
from galileio_desktop.data.errors import CredentialsError
from galileio_desktop.data.schema import Chat, Message, make_sources, new_id, now_ms

pytestmark = pytest.mark.integration


@pytest.fixture
def api_deployment(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ApiDeployment]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with api_deployment_on(moto_endpoint, tmp_path) as deployment:
        yield deployment


def _raw(
    api: ApiDeployment,
    method: str,
    path: str,
    *,
    key: str = "TESTACCESSKEY12345",
    secret: str = "ABCSECRETKEY",
    token: str | None = "ABC12345",
    region: str = "us-east-1",
    service: str = "execute-api",
    id_token: str | None = None,
) -> tuple[int, object, dict[str, str]]:
    url = api.stand_in.url + path
    headers = {"X-Cognito-IdToken": id_token} if id_token else {}
    request = AWSRequest(method=method, url=url, data=b"", headers=headers)
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    sent = urllib.request.Request(url, method=method, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(sent) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def test_the_stand_in_checks_the_signature_scope_and_the_id_token(api_deployment: ApiDeployment) -> None:
    api = api_deployment
    workspace = api.workspace()
    id_token = workspace.session().id_token()
    assert _raw(api, "GET", "chat", id_token=id_token)[0] == 200
    assert _raw(api, "GET", "chat", secret="wrong", id_token=id_token)[0] == 403
    assert _raw(api, "GET", "chat", region="eu-west-1", id_token=id_token)[0] == 403
    assert _raw(api, "GET", "chat", service="dynamodb", id_token=id_token)[0] == 403
    assert _raw(api, "GET", "chat", token="other", id_token=id_token)[0] == 403
    status, body, _ = _raw(api, "GET", "chat")  # signed, but no user
    assert status == 403 and "errorMessage" in body  # type: ignore[operator]
    assert _raw(api, "GET", "chat", id_token=id_token[:-4] + "AAAA")[0] == 403
    status, body, headers = _raw(api, "GET", "chat/x?pageSize=ten", id_token=id_token)
    assert (status, body) == (400, {}) and headers["x-amzn-errortype"]
    assert _raw(api, "GET", "chat/x?reverse=1", id_token=id_token)[0] == 400


def test_both_transports_see_the_same_chats(api_deployment: ApiDeployment) -> None:
    api = api_deployment
    workspace = api.workspace()
    user = workspace.user_id
    table = api.table_gateway(user)
    # Written straight to the table (as the web app's handlers do): read through the API.
    chat = Chat(new_id(), user, "From the table", now_ms() - 5000)
    table.create_chat(chat)
    answer_id = new_id()
    sources = make_sources(
        user,
        chat.chat_id,
        answer_id,
        [{"pageContent": f"p{i}", "metadata": {"n": i}} for i in range(12)],
        chat.created_at + 2,
    )
    table.put_message(Message(new_id(), chat.chat_id, user, "human", "Question?", chat.created_at + 1))
    table.put_message(
        Message(answer_id, chat.chat_id, user, "ai", "Answer.", chat.created_at + 2).with_sources(sources)
    )
    with workspace.make_library() as library:
        library.sync()
        assert [v.chat.title for v in library.list_chats()] == ["From the table"]
        library.open_chat(chat.chat_id)
        library.fetch_sources(chat.chat_id)
        assert [v.message.content for v in library.list_messages(chat.chat_id)] == ["Question?", "Answer."]
        assert [s.page_content for s in library.list_sources(answer_id)] == [f"p{i}" for i in range(12)]
        # The mirror holds exactly the table's items.
        mirrored = {i["SK"]["S"]: i for i in library.remote_snapshot()}
        for item in [chat.to_item(), *(s.to_item() for s in sources)]:
            assert mirrored[item["SK"]["S"]] == item
        # Written through the API: read straight from the table.
        created = library.create_chat("Made over the API")
        library.sync()
        listed = {c.title: c for c in table.list_chats()}
        server_chat = listed["Made over the API"]
        assert server_chat.chat_id != created.chat_id  # the API made its own id ...
        assert library.get_chat(server_chat.chat_id) is not None  # ... and the mirror took it
        assert library.get_chat(created.chat_id) is None
        assert library.current_chat_id(created.chat_id) == server_chat.chat_id  # the old id leads there
        assert library.current_chat_id(server_chat.chat_id) == server_chat.chat_id
        library.rename_chat(server_chat.chat_id, "Renamed over the API")
        library.delete_message(chat.chat_id, answer_id)
        library.sync()
        assert {c.title for c in table.list_chats()} == {"From the table", "Renamed over the API"}
        assert [m.content for m in table.list_messages(chat.chat_id)] == ["Question?"]
        assert table.list_sources(answer_id) == []
        library.delete_chat(chat.chat_id)
        library.sync()
        assert [c.title for c in table.list_chats()] == ["Renamed over the API"]
        assert table.list_messages(chat.chat_id) == []
        assert api.stand_in.requests["PUT /chat"] == 1


def test_asking_stores_the_turn_once_on_the_server(api_deployment: ApiDeployment) -> None:
    api = api_deployment
    workspace = api.workspace()
    table = api.table_gateway(workspace.user_id)
    with workspace.make_library() as library:
        library.sync()
        chat = library.create_chat("Backups")
        library.sync()
        chat_id = library.list_chats()[0].chat.chat_id
        assistant = workspace.make_assistant()
        result = ask(library, assistant, chat_id, "How are backups kept?")
        assert result.answer is not None and result.sources
        stored = table.list_messages(chat_id)
        assert [m.type for m in stored] == ["human", "ai"]  # once: nothing written by the client
        assert api.stand_in.requests["PUT /chat/{id}/message"] == 1
        assert library.status().pending == 0
        library.sync()
        views = library.list_messages(chat_id)
        assert [v.message.message_id for v in views] == [m.message_id for m in stored]
        assert len(table.list_sources(stored[1].message_id)) == len(result.sources)
        assert chat.chat_id != chat_id


def test_asking_in_a_chat_not_sent_yet_creates_it_there_first(api_deployment: ApiDeployment) -> None:
    """The ask route stores under the id it is given: never under the id made here."""
    api = api_deployment
    workspace = api.workspace()
    table = api.table_gateway(workspace.user_id)
    with workspace.make_library() as library:
        local = library.create_chat()
        moved: list[str] = []
        result = ask(
            library,
            workspace.make_assistant(),
            local.chat_id,
            "How are backups kept?",
            on_chat_moved=moved.append,
        )
        [server_chat] = table.list_chats()
        assert moved == [server_chat.chat_id] == [result.chat_id] and result.chat_id != local.chat_id
        assert server_chat.title == "How are backups kept?"  # the first question names it
        assert [m.type for m in table.list_messages(server_chat.chat_id)] == ["human", "ai"]
        assert table.list_messages(local.chat_id) == []  # nothing stored under the local id
        assert result.answer is not None and result.answer.chat_id == server_chat.chat_id
        views = library.list_messages(server_chat.chat_id)
        assert [v.message.type for v in views] == ["human", "ai"]
        assert library.status().pending == 0 and api.stand_in.requests["PUT /chat"] == 1


def test_answers_of_other_backends_stay_on_this_device_marked(api_deployment: ApiDeployment) -> None:
    workspace = api_deployment.workspace()
    with workspace.make_library() as library:
        library.create_chat("Local")
        library.sync()
        chat_id = library.list_chats()[0].chat.chat_id
        library.add_message(chat_id, "human", "kept here")
        pushed = library.push(retry_now=True)
        assert pushed.parked == 1
        view = library.list_messages(chat_id)[0]
        assert view.unsent_reason == NOT_STORED_REASON
        assert api_deployment.table_gateway(workspace.user_id).list_messages(chat_id) == []


def test_refused_credentials_are_a_sign_in_error(api_deployment: ApiDeployment) -> None:
    workspace = api_deployment.workspace()
    session = workspace.session()
    gateway = ApiGateway(
        api_deployment.stand_in.url, "us-east-1", session.boto3_session, session.user_id, lambda: None
    )
    with pytest.raises(CredentialsError) as raised:
        gateway.list_chat_items()
    assert raised.value.exit_code == 4


def test_the_demo_runs_through_its_api_stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from galileio_desktop.data.paths import AppPaths
    from galileio_desktop.demo import DemoServer, start_demo_api
    from galileio_desktop.desktop import demo_account
    from galileio_desktop.workspace import Workspace

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with DemoServer() as info:
        api = start_demo_api(info)
        try:
            workspace = Workspace(demo_account(info, api.url), AppPaths.resolve(tmp_path / "demo"))
            with workspace.make_library() as library:
                library.sync()
                chats = library.list_chats()
                assert len(chats) == len(api.handlers.list_chats(info.user_id)["chats"]) > 0
                chat_id = chats[0].chat.chat_id
                before = library.count_messages(chat_id)
                result = ask(library, workspace.make_assistant(), chat_id, "What is the retention of chats?")
                assert result.answer is not None and library.status().pending == 0
                library.sync()
                assert library.count_messages(chat_id) == before + 2
                assert api.requests["PUT /chat/{id}/message"] == 1
        finally:
            api.stop()
            # moto keeps its tables for the whole process: leave none behind for other tests
            from galileio_desktop.data.dynamo.dynamo_client import make_dynamodb_client
            from galileio_desktop.demo import demo_session

            make_dynamodb_client(info.region, info.endpoint_url, demo_session()).delete_table(
                TableName=info.table
            )
