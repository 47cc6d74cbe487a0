"""The gateway's access patterns on in-process moto: pages, batches, faults, shapes."""

from __future__ import annotations

import random
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from galileio_desktop.data.dynamo.gateway import ChatGateway
from galileio_desktop.data.errors import ItemTooLarge, NotFound, Throttled
from galileio_desktop.data.schema import Chat, Message, make_sources, new_id

TABLE = "galileo-test"
USER = "user-a"


def gateway_for(client: Any, user: str = USER) -> ChatGateway:
    if user != USER:  # a client is bound to one user's partition
        client = boto3.client("dynamodb", region_name="us-east-1")
    return ChatGateway(client, TABLE, user, max_workers=4)


def new_message(user: str, chat_id: str, n_sources: int = 0, text: str = "hello", at: int = 1000) -> Message:
    message_id = new_id()
    drafts = [{"pageContent": f"passage {i}", "metadata": {"section_index": i}} for i in range(n_sources)]
    return Message(message_id, chat_id, user, "ai" if n_sources else "human", text, at).with_sources(
        make_sources(user, chat_id, message_id, drafts, at)
    )


def all_items(_client: Any) -> list[dict]:
    """Every item of the table, read by an inspector outside any partition guard."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    items: list[dict] = []
    kwargs: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_queries_read_every_page(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "long", 1)
    gateway.create_chat(chat)
    big = "x" * 90_000  # ~11 messages a 1 MB page
    for i in range(30):
        gateway.put_message(new_message(USER, chat.chat_id, text=f"{i} {big}", at=1000 + i))
    messages = gateway.list_messages(chat.chat_id)
    assert [m.content.split(" ")[0] for m in messages] == [str(i) for i in range(30)]


def test_the_first_page_of_a_chat_can_be_small_and_the_rest_follows(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "long", 1)
    gateway.create_chat(chat)
    for i in range(30):
        gateway.put_message(new_message(USER, chat.chat_id, text=str(i), at=1000 + i))
    pages = list(gateway.iter_message_pages(chat.chat_id, newest_first=True, first_page=5))
    assert [len(p) for p in pages] == [5, 25] and [p.more for p in pages] == [True, False]
    assert [Message.from_item(i).content for p in pages for i in p] == [str(i) for i in range(29, -1, -1)]


def test_the_pool_keeps_working_with_a_busy_thread_and_from_its_own_threads(ddb: Any) -> None:
    gateway = gateway_for(ddb)  # a pool of 4
    release = threading.Event()
    busy = gateway.pool.submit(release.wait, 30)  # a request that does not end yet
    try:
        assert gateway.each(lambda i: i * 2, list(range(10))) == [i * 2 for i in range(10)]
        nested = gateway.each(lambda i: gateway.each(lambda j: (i, j), [0, 1, 2]), [0, 1])
        assert nested == [[(i, j) for j in range(3)] for i in range(2)]
    finally:
        release.set()
    assert busy.result() is True
    gateway.close()


def test_create_is_replay_safe_and_rename_never_resurrects(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "first", 1)
    gateway.create_chat(chat)
    gateway.create_chat(chat)  # a replay after a lost response: no error, no duplicate
    assert [c.chat_id for c in gateway.list_chats()] == [chat.chat_id]
    renamed = gateway.rename_chat(chat.chat_id, "second", 5)
    assert renamed["title"] == {"S": "second"} and renamed["updatedAt"] == {"N": "5"}
    gateway.delete_chat(chat.chat_id)
    with pytest.raises(NotFound):
        gateway.rename_chat(chat.chat_id, "third", 6)
    assert all_items(ddb) == []


def test_rename_keeps_attributes_written_by_others(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "first", 1)
    item = chat.to_item()
    item["pinned"] = {"BOOL": True}
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=TABLE, Item=item)
    gateway.rename_chat(chat.chat_id, "second", 2)
    stored = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=TABLE, Key={"PK": item["PK"], "SK": item["SK"]}
    )["Item"]
    assert stored["pinned"] == {"BOOL": True} and stored["title"] == {"S": "second"}


def test_answer_with_40_sources_is_stored_whole(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "t", 1)
    gateway.create_chat(chat)
    answer = new_message(USER, chat.chat_id, n_sources=40)
    gateway.put_message(answer)
    sources = gateway.list_sources(answer.message_id)
    assert [s.source_id for s in sources] == [str(i) for i in range(40)]
    assert len(all_items(ddb)) == 1 + 1 + 40


class FlakyBatches:
    """Wrap a real client: ~30% of BatchWriteItem calls throttle or leave items unprocessed."""

    def __init__(self, client: Any, seed: int) -> None:
        self._client = client
        self._random = random.Random(seed)
        self.faults = 0
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_write_item(self, RequestItems: dict[str, list[dict]]) -> dict:  # noqa: N803
        self.calls += 1
        ((table, requests),) = RequestItems.items()
        roll = self._random.random()
        if roll < 0.15:
            self.faults += 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                "BatchWriteItem",
            )
        if roll < 0.30 and len(requests) > 1:
            self.faults += 1
            cut = self._random.randint(1, len(requests) - 1)
            self._client.batch_write_item(RequestItems={table: requests[:cut]})
            return {"UnprocessedItems": {table: requests[cut:]}}
        return self._client.batch_write_item(RequestItems=RequestItems)


@pytest.mark.parametrize("seed", range(5))
def test_faulty_batches_still_land_every_item_exactly_once(ddb: Any, seed: int) -> None:
    flaky = FlakyBatches(ddb, seed)
    gateway = ChatGateway(flaky, TABLE, USER, max_workers=4)
    chat = Chat(new_id(), USER, "t", 1)
    gateway.create_chat(chat)
    answer = new_message(USER, chat.chat_id, n_sources=40)
    for _ in range(10):  # a throttled call surfaces as an error: the caller retries the idempotent write
        try:
            gateway.put_message(answer)
            break
        except Throttled:
            continue
    keys = [(i["PK"]["S"], i["SK"]["S"]) for i in all_items(ddb)]
    assert len(keys) == len(set(keys)) == 42
    assert [s.source_id for s in gateway.list_sources(answer.message_id)] == [str(i) for i in range(40)]


def test_unprocessed_items_exhausting_retries_are_reported_not_dropped(ddb: Any) -> None:
    class NeverProcesses(FlakyBatches):
        def batch_write_item(self, RequestItems: dict[str, list[dict]]) -> dict:  # noqa: N803
            self.calls += 1
            return {"UnprocessedItems": RequestItems}

    stubborn = NeverProcesses(ddb, 0)
    gateway = ChatGateway(stubborn, TABLE, USER, max_workers=2)
    from galileio_desktop.data.dynamo import batch_writer

    fast = batch_writer.Backoff(base=0.001, cap=0.002, attempts=4)
    with pytest.raises(Throttled, match="25 of 25 items unwritten"):
        batch_writer.write_batch(
            stubborn, TABLE, [batch_writer.put_request(new_message(USER, "c").to_item())] * 25, fast
        )
    assert stubborn.calls == 4
    with pytest.raises(Throttled):
        gateway.put_message(new_message(USER, "c", n_sources=3))
    # the answer itself is never written when its sources could not be
    assert gateway.list_message_items("c") == []


def test_delete_chat_removes_everything_of_that_chat_only(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    other_user = gateway_for(ddb, "user-b")
    keep, doomed = Chat(new_id(), USER, "keep", 1), Chat(new_id(), USER, "doomed", 2)
    theirs = Chat(doomed.chat_id, "user-b", "same id, other user", 3)
    for g, chat in ((gateway, keep), (gateway, doomed), (other_user, theirs)):
        g.create_chat(chat)
        for i in range(6):
            g.put_message(new_message(chat.user_id, chat.chat_id, n_sources=i % 3, at=10 + i))
    progress: list[tuple[int, int]] = []
    result = gateway.delete_chat(doomed.chat_id, progress=lambda done, total: progress.append((done, total)))
    assert (result.deleted_messages, result.deleted_sources) == (6, 6)
    assert progress[-1][0] == progress[-1][1]
    remaining = all_items(ddb)
    assert not [
        i for i in remaining if i["PK"]["S"] == USER and i.get("chatId", {}).get("S") == doomed.chat_id
    ]
    assert len([i for i in remaining if i["PK"]["S"] == "user-b"]) == 1 + 6 + 6
    assert len([i for i in remaining if i["PK"]["S"] == USER]) == 1 + 6 + 6
    assert gateway.delete_chat(doomed.chat_id).deleted_messages == 0  # idempotent


def test_a_chat_delete_lists_its_messages_by_key_only(ddb: Any) -> None:
    """The delete needs each message's key, not its text: the listing asks for the key
    alone, and a message item without ``messageId`` is still found."""
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "doomed", 1)
    gateway.create_chat(chat)
    for i in range(4):
        gateway.put_message(new_message(USER, chat.chat_id, n_sources=1, text="x" * 5_000, at=10 + i))
    bare = new_message(USER, chat.chat_id, at=20).to_item()
    del bare["messageId"]
    ddb.put_item(TableName=TABLE, Item=bare)
    queries: list[dict[str, Any]] = []
    ddb.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: queries.append(dict(params))
    )
    listed = gateway.list_message_keys(chat.chat_id)
    assert len(listed) == 5 and all(set(item) == {"PK", "SK"} for item in listed)
    queries.clear()
    result = gateway.delete_chat(chat.chat_id)
    assert (result.deleted_messages, result.deleted_sources) == (5, 4)
    assert [q.get("ProjectionExpression") for q in queries if q.get("IndexName")] == ["PK, SK"]
    assert not [i for i in all_items(ddb) if i.get("chatId", {}).get("S") == chat.chat_id]


def test_a_chat_delete_goes_by_each_listed_item_s_sort_key(ddb: Any) -> None:
    """Another writer's ``messageId`` naming a message of another chat, or an item of
    another kind filed under the chat's index key, must not steer the delete: a message
    goes with its own sources (by its sort key, as the mirror files it), and what is
    not a message of the chat stays, with everything of the other chat."""
    gateway = gateway_for(ddb)
    kept = Chat(new_id(), USER, "kept", 1)
    doomed = Chat(new_id(), USER, "doomed", 2)
    for chat in (kept, doomed):
        gateway.create_chat(chat)
    other = new_message(USER, kept.chat_id, n_sources=2, at=10)
    gateway.put_message(other)
    liar = new_message(USER, doomed.chat_id, n_sources=1, at=20)
    gateway.put_message(liar)
    lying = {**liar.to_item(), "messageId": {"S": other.message_id}}
    ddb.put_item(TableName=TABLE, Item=lying)
    stray = {**kept.to_item(), "GSI1PK": {"S": f"{USER}#CHAT#{doomed.chat_id}"}, "GSI1SK": {"S": "30"}}
    ddb.put_item(TableName=TABLE, Item=stray)  # the kept chat's own item, filed under the doomed one

    result = gateway.delete_chat(doomed.chat_id)
    assert (result.deleted_messages, result.deleted_sources) == (1, 1)
    left = {i["SK"]["S"] for i in all_items(ddb)}
    assert left == {
        f"CHAT#{kept.chat_id}",
        f"MESSAGE#{other.message_id}",
        *(f"SOURCE#{other.message_id}#{s.source_id}" for s in other.sources),
    }


def test_delete_message_removes_its_sources(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "t", 1)
    gateway.create_chat(chat)
    answer = new_message(USER, chat.chat_id, n_sources=30)
    gateway.put_message(answer)
    assert gateway.delete_message(answer.message_id) == 30
    assert len(all_items(ddb)) == 1


def test_oversized_items_are_refused_before_any_request(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    calls: list[str] = []
    ddb.meta.events.register("before-send.dynamodb", lambda request, **_: calls.append(request.url))
    with pytest.raises(ItemTooLarge):
        gateway.put_message(new_message(USER, "c", text="x" * (401 * 1024)))
    big_source = new_message(USER, "c", n_sources=1)
    big_source = big_source.with_sources(
        make_sources(USER, "c", big_source.message_id, [{"pageContent": "y" * 410_000, "metadata": {}}], 1)
    )
    with pytest.raises(ItemTooLarge, match="Source 0"):
        gateway.put_message(big_source)
    assert calls == []


def test_requests_outside_the_partition_are_refused_before_sending(ddb: Any) -> None:
    from galileio_desktop.data.errors import PartitionViolation

    gateway = gateway_for(ddb)
    sent: list[str] = []
    ddb.meta.events.register("before-send.dynamodb", lambda request, **_: sent.append(request.url))
    with pytest.raises(PartitionViolation):
        ddb.get_item(TableName=TABLE, Key={"PK": {"S": "someone-else"}, "SK": {"S": "CHAT#x"}})
    with pytest.raises(PartitionViolation):
        ddb.scan(TableName=TABLE)
    with pytest.raises(PartitionViolation):
        ChatGateway(ddb, TABLE, "someone-else")
    assert sent == []
    gateway.list_chats()
    assert len(sent) == 1


def test_index_entries_planted_by_another_user_are_ignored(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    gateway.create_chat(Chat(new_id(), USER, "mine", 1))
    planted = Chat(new_id(), "intruder", "click me", 2).to_item()
    planted["GSI1PK"] = {"S": f"{USER}#CHAT"}  # their own item, pretending to be in my list
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=TABLE, Item=planted)
    assert [c.title for c in gateway.list_chats()] == ["mine"]


def test_delete_chat_takes_known_sources_and_queries_only_the_rest(ddb: Any) -> None:
    gateway = gateway_for(ddb)
    chat = Chat(new_id(), USER, "doomed", 1)
    gateway.create_chat(chat)
    known_answer = new_message(USER, chat.chat_id, n_sources=3, at=10)
    known_question = new_message(USER, chat.chat_id, at=11)
    odd_question = new_message(USER, chat.chat_id, at=12)  # a third writer gave it a source
    unknown_answer = new_message(USER, chat.chat_id, n_sources=2, at=13)
    lagging = new_message(USER, chat.chat_id, n_sources=1, at=14)  # not in GSI1 yet
    for message in (known_answer, known_question, unknown_answer, lagging):
        gateway.put_message(message)
    gateway.put_message(
        odd_question.with_sources(
            make_sources(USER, chat.chat_id, odd_question.message_id, [{"pageContent": "x"}], 12)
        )
    )
    inspector = boto3.client("dynamodb", region_name="us-east-1")
    lag_item = inspector.get_item(
        TableName=TABLE, Key={"PK": {"S": USER}, "SK": {"S": f"MESSAGE#{lagging.message_id}"}}
    )["Item"]
    del lag_item["GSI1PK"], lag_item["GSI1SK"]
    inspector.put_item(TableName=TABLE, Item=lag_item)
    queries: list[str] = []
    ddb.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: queries.append(
            params.get("IndexName") or params["ExpressionAttributeValues"][":prefix"]["S"]
        ),
    )
    known = {
        known_answer.message_id: [
            {"PK": {"S": USER}, "SK": {"S": f"SOURCE#{known_answer.message_id}#{i}"}} for i in range(3)
        ],
        known_question.message_id: [],
        lagging.message_id: [{"PK": {"S": USER}, "SK": {"S": f"SOURCE#{lagging.message_id}#0"}}],
    }
    result = gateway.delete_chat(chat.chat_id, known_sources=known)
    assert sorted(queries) == sorted(
        ["GSI1", f"SOURCE#{odd_question.message_id}#", f"SOURCE#{unknown_answer.message_id}#"]
    )
    assert (result.deleted_messages, result.deleted_sources) == (5, 3 + 1 + 2 + 1)
    assert all_items(ddb) == []


def test_a_failed_concurrent_step_has_no_request_still_running(ddb: Any) -> None:
    """When one lookup fails, the others have finished before the error reaches the
    caller, so a retry never overlaps the requests of the attempt it replaces."""
    import threading

    gw = gateway_for(ddb)
    finished: list[str] = []
    slow_started = threading.Event()

    def lookup(name: str) -> str:
        if name == "fails":
            slow_started.wait(5)
            raise Throttled("injected")
        slow_started.set()
        threading.Event().wait(0.2)  # still running when the other one fails
        finished.append(name)
        return name

    with pytest.raises(Throttled):
        gw.each(lookup, ["fails", "slow"])
    assert finished == ["slow"]
    assert gw.each(str.upper, ["a", "b", "c"]) == ["A", "B", "C"]  # in order
    gw.close()
