"""An opened chat read again through the deployment's API: its message pages are all there
is, so what they no longer list is gone, except a message too young to be indexed yet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_stand_in import ApiDeployment, api_deployment_on

from galileio_desktop.data.api import gateway as api_gateway
from galileio_desktop.data.schema import Chat, Message, make_sources, now_ms
from galileio_desktop.data.sync.puller import INDEX_LAG_MS

pytestmark = pytest.mark.integration


@pytest.fixture
def api(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ApiDeployment]:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    with api_deployment_on(moto_endpoint, tmp_path) as deployment:
        yield deployment


def _message(user: str, chat_id: str, message_id: str, kind: str, at: int, sources: int = 0) -> Message:
    found = [{"pageContent": f"{message_id} p{i}", "metadata": {}} for i in range(sources)]
    message = Message(message_id, chat_id, user, kind, f"{kind} {message_id}", at)
    return message.with_sources(make_sources(user, chat_id, message_id, found, at))


def test_the_web_app_s_changes_show_at_one_request_per_page(
    api: ApiDeployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_gateway, "PAGE_SIZE", 4)
    workspace = api.workspace()
    user = workspace.user_id
    table = api.table_gateway(user)
    old = now_ms() - 10 * 60_000
    table.create_chat(Chat("c", user, "Chat", old))
    for n in range(5):
        table.put_message(_message(user, "c", f"q{n}", "human", old + 10 * n + 1))
        table.put_message(_message(user, "c", f"a{n}", "ai", old + 10 * n + 2, sources=2))
    with workspace.make_library() as library:
        library.sync()
        library.open_chat("c")
        before = dict(api.stand_in.requests)
        assert library.revalidate_chat("c").removed == 0
        spent = {k: v - before.get(k, 0) for k, v in api.stand_in.requests.items() if v != before.get(k, 0)}
        assert spent == {"GET /chat/{id}": 3}  # 10 messages, 4 a page
        table.delete_message("a3")
        table.put_message(_message(user, "c", "q9", "human", now_ms()))
        table.put_message(_message(user, "c", "a9", "ai", now_ms() + 1, sources=3))
        before = dict(api.stand_in.requests)
        result = library.revalidate_chat("c")
        spent = {k: v - before.get(k, 0) for k, v in api.stand_in.requests.items() if v != before.get(k, 0)}
        assert spent == {"GET /chat/{id}": 3, "GET /chat/{id}/message/{id}/source": 1}  # the new answer's
        assert result.removed == 1 + 2  # the answer and its sources
        ids = [v.message.message_id for v in library.list_messages("c")]
        assert "a3" not in ids and ids[-2:] == ["q9", "a9"]
        assert [s.page_content for s in library.list_sources("a9")] == ["a9 p0", "a9 p1", "a9 p2"]
        assert library.list_sources("a3") == []


def test_a_message_too_young_to_be_listed_is_kept(api: ApiDeployment) -> None:
    workspace = api.workspace()
    user = workspace.user_id
    table = api.table_gateway(user)
    old = now_ms() - 10 * 60_000
    table.create_chat(Chat("c", user, "Chat", old))
    table.put_message(_message(user, "c", "q0", "human", old + 1))
    with workspace.make_library() as library:
        library.sync()
        library.open_chat("c")
        # Stored by the server moments ago (an ask's answer) and not listed yet, and one
        # the server no longer lists since long: the first is kept, the second goes.
        library.store_remote_message(_message(user, "c", "young", "ai", now_ms()))
        library.store_remote_message(_message(user, "c", "stale", "ai", now_ms() - INDEX_LAG_MS - 1000))
        library.revalidate_chat("c")
        assert [v.message.message_id for v in library.list_messages("c")] == ["q0", "young"]
