"""Push: order, replays after lost responses, backoff, parking, Undo, restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, Device, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.errors import CredentialsError
from galileio_desktop.data.sync import ChatLibrary
from galileio_desktop.data.sync.backoff import BASE_MS


def assert_mirror_is_remote(lib: ChatLibrary, web: WebApp) -> None:
    assert by_key(lib.remote_snapshot()) == by_key(web.items())


@pytest.mark.parametrize("transactions", [True, False], ids=["transactions", "no-transactions"])
def test_push_writes_the_web_app_shapes_in_order(device: Device, web: WebApp, transactions: bool) -> None:
    lib = device.lib
    if not transactions:
        device.faults.without_transactions()
    chat = lib.create_chat("Budget")
    question = lib.add_message(chat.chat_id, "human", "How much?")
    drafts = [
        {"pageContent": f"passage {i}", "metadata": {"source_location": f"s3://b/{i}"}} for i in range(30)
    ]
    answer = lib.add_message(chat.chat_id, "ai", "Enough.", drafts)
    lib.rename_chat(chat.chat_id, "Budget 2026")
    result = lib.push()
    assert (result.pushed, result.parked, result.pending, result.error) == (4, 0, 0, None)
    remote = by_key(web.items())
    chat_item = remote[f"CHAT#{chat.chat_id}"]
    assert chat_item["title"] == {"S": "Budget 2026"} and chat_item["GSI1PK"] == {"S": f"{USER}#CHAT"}
    assert chat_item["GSI1SK"] == {"S": str(chat.created_at)} and chat_item["entity"] == {"S": "CHAT"}
    message_item = remote[f"MESSAGE#{question.message_id}"]
    assert message_item["GSI1PK"] == {"S": f"{USER}#CHAT#{chat.chat_id}"}
    assert message_item["data"] == {"M": {"content": {"S": "How much?"}}} and message_item["type"] == {
        "S": "human"
    }
    sources = sorted(
        (v for k, v in remote.items() if k.startswith(f"SOURCE#{answer.message_id}#")),
        key=lambda i: int(i["sourceId"]["S"]),
    )
    assert [s["pageContent"]["S"] for s in sources] == [f"passage {i}" for i in range(30)]
    assert len(remote) == 1 + 2 + 30
    assert_mirror_is_remote(lib, web)
    assert not any(v.pending for v in lib.list_messages(chat.chat_id)) and not lib.list_chats()[0].pending
    if transactions:
        # the create, each message with its sources in one transaction, the rename
        assert result.requests == 1 + 2 + 1
        assert device.faults.count("TransactWriteItems") == 2 and device.faults.count("GetItem") == 0
    else:
        # get chat once, 2 messages (+2 source batches of 25 + 5), the create and the
        # rename; the one refused transaction is remembered (the injected refusal is
        # answered before the request counter sees it)
        assert result.requests == 1 + 2 + 2 + 1 + 1
        assert device.faults.count("TransactWriteItems") == 1 and device.faults.count("GetItem") == 1


@pytest.mark.parametrize("lost_on", ["create", "message", "rename", "delete_message", "delete_chat"])
def test_a_lost_response_is_replayed_without_a_duplicate(device: Device, web: WebApp, lost_on: str) -> None:
    lib = device.lib
    chat = lib.create_chat("t")
    if lost_on != "create":
        first = lib.add_message(chat.chat_id, "human", "kept")
        assert lib.push().pending == 0
    steps = {
        "create": lambda: None,
        "message": lambda: lib.add_message(
            chat.chat_id, "ai", "answer", [{"pageContent": "p", "metadata": {}}]
        ),
        "rename": lambda: lib.rename_chat(chat.chat_id, "renamed"),
        "delete_message": lambda: lib.delete_message(chat.chat_id, first.message_id),
        "delete_chat": lambda: lib.delete_chat(chat.chat_id),
    }
    steps[lost_on]()
    before = web.items()
    device.faults.lose_writes = 1
    failed = lib.push()
    assert failed.error and "offline" in failed.error and failed.pending == 1
    assert device.faults.lost and web.items() != before  # the write did land
    device.restart()  # and the app was closed before it heard back
    assert lib is not device.lib
    replayed = device.lib.push(retry_now=True)
    assert (replayed.pushed, replayed.pending, replayed.parked) == (1, 0, 0)
    after = by_key(web.items())
    if lost_on in ("create", "message", "rename"):
        assert sum(k.startswith("CHAT#") for k in after) == 1
    if lost_on == "message":
        assert (
            sum(k.startswith("MESSAGE#") for k in after) == 2
            and sum(k.startswith("SOURCE#") for k in after) == 1
        )
    if lost_on == "rename":
        assert after[f"CHAT#{chat.chat_id}"]["title"] == {"S": "renamed"}
    if lost_on == "delete_chat":
        assert after == {}
    assert_mirror_is_remote(device.lib, web)


def test_endpoint_down_backs_off_with_jitter_and_no_sleep(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("offline")
    device.faults.down = True
    now = device.clock.now
    result = lib.push()
    assert result.pending == 1 and result.pushed == 0 and result.error
    [op] = device.ops()
    assert op.attempts == 1 and now + BASE_MS // 2 <= op.next_attempt <= now + BASE_MS + 10
    calls = device.faults.count()
    assert lib.push().pushed == 0 and device.faults.count() == calls  # waits for its time, sends nothing
    lib.push(retry_now=True)
    [op] = device.ops()
    assert op.attempts == 2 and op.next_attempt - device.clock.now >= BASE_MS - 10  # doubled window
    assert op.cancellable  # nothing reached DynamoDB
    device.faults.down = False
    assert lib.push().pushed == 0  # still within the backoff
    device.clock.advance(10 * BASE_MS)
    assert lib.push().pushed == 1
    assert set(web.chats()) == {chat.chat_id}


def test_throttling_backs_off_and_stops_the_pass(device: Device, web: WebApp) -> None:
    lib = device.lib
    first = lib.create_chat("one")
    lib.create_chat("two")
    device.faults.throttle = True
    result = lib.push()
    assert result.error and "throttl" in result.error.lower() and result.pending == 2
    assert device.faults.count("PutItem") == 1  # the pass stopped at the first refusal
    assert [op.attempts for op in device.ops()] == [1, 0]
    device.faults.clear()
    assert lib.push(retry_now=True).pushed == 2
    assert first.chat_id in web.chats()


def test_a_refused_operation_is_parked_and_blocks_nothing_else(device: Device, web: WebApp) -> None:
    lib = device.lib
    existing = lib.create_chat("existing")
    lib.push()
    device.faults.refuse["PutItem"] = "ValidationException"
    bad = lib.create_chat("refused")
    lib.add_message(bad.chat_id, "human", "waits for its chat")
    lib.rename_chat(existing.chat_id, "renamed meanwhile")
    result = lib.push()
    assert (result.pushed, result.parked, result.error) == (1, 1, None)
    assert web.chats()[existing.chat_id]["title"] == {"S": "renamed meanwhile"}
    parked = [op for op in device.ops() if op.state == "parked"]
    assert [(op.kind, op.error_kind) for op in parked] == [("create_chat", "rejected")]
    assert "ValidationException" in (parked[0].error or "")
    [view] = [v for v in lib.list_chats() if v.chat.chat_id == bad.chat_id]
    assert view.parked_error and "ValidationException" in view.parked_error and view.unsent == 1
    # the message of the refused chat is held, not sent into a chat that does not exist;
    # the one read asked whether the refused create had landed after all (it had not)
    assert device.faults.count("TransactWriteItems") == 0 and device.faults.count("GetItem") == 1
    assert [op.held for op in device.ops() if op.chat_id == bad.chat_id] == [False, True]
    device.faults.clear()
    lib.retry(parked[0].op_id)
    assert lib.push().pushed == 2
    assert set(web.chats()) == {existing.chat_id, bad.chat_id} and len(web.messages()) == 1


def test_a_refused_message_does_not_hold_the_next_one(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("t")
    lib.push()
    device.faults.refuse["TransactWriteItems"] = "AccessDeniedException"
    refused = lib.add_message(chat.chat_id, "human", "not allowed")
    result = lib.push()
    assert result.parked == 1
    device.faults.clear()
    later = lib.add_message(chat.chat_id, "human", "allowed")
    assert lib.push().pushed == 1
    assert set(web.messages()) == {later.message_id}
    views = {v.message.message_id: v for v in lib.list_messages(chat.chat_id)}
    assert (
        views[refused.message_id].unsent_reason and "access denied" in views[refused.message_id].unsent_reason
    )
    assert not views[later.message_id].pending
    # deleting the refused message settles it: the parked write is dropped with it
    lib.delete_message(chat.chat_id, refused.message_id)
    assert lib.push().pushed == 1 and lib.status().parked == 0 and lib.status().pending == 0


def test_expired_credentials_stop_the_push_without_parking(device: Device) -> None:
    lib = device.lib
    lib.create_chat("t")
    device.faults.refuse["PutItem"] = "ExpiredTokenException"
    with pytest.raises(CredentialsError):
        lib.push()
    [op] = device.ops()
    assert op.state == "pending" and op.error_kind is None


def test_not_before_holds_only_its_own_chat_and_undo_works(device: Device, web: WebApp) -> None:
    lib = device.lib
    doomed = lib.create_chat("doomed")
    other = lib.create_chat("other")
    lib.push()
    op_id = lib.delete_chat(doomed.chat_id, not_before_ms=device.clock.now + 5_000)
    lib.rename_chat(other.chat_id, "other renamed")
    assert lib.push().pushed == 1
    assert set(web.chats()) == {doomed.chat_id, other.chat_id}
    assert lib.cancel(op_id) is True  # Undo
    assert {v.chat.title for v in lib.list_chats()} == {"doomed", "other renamed"}
    op_id = lib.delete_chat(doomed.chat_id, not_before_ms=device.clock.now + 5_000)
    device.clock.advance(6_000)
    assert lib.push().pushed == 1
    assert lib.cancel(op_id) is False
    assert set(web.chats()) == {other.chat_id}


def search_index_is_exact(path: Path) -> bool:
    """FTS5's own check of the mirror's full-text index against the visible rows' text."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()
    return True


def activity_rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return dict(conn.execute("SELECT chat_id, activity FROM chat_activity"))


def test_a_big_chat_deleted_undone_and_deleted_keeps_search_and_order_exact(
    device: Device, web: WebApp
) -> None:
    lib = device.lib
    older = lib.create_chat("older chat")
    lib.add_message(older.chat_id, "human", "zebra in the older chat")
    device.clock.advance(1_000)
    big = lib.create_chat("big chat")
    for n in range(30):
        lib.add_message(big.chat_id, "human", f"zebra question {n}")
        lib.add_message(big.chat_id, "ai", f"zebra answer {n}", [{"pageContent": f"zebra source {n}"}] * 3)
    lib.push()
    hits = [(h.kind, h.message_id) for h in lib.search("zebra")]
    order = [v.chat.chat_id for v in lib.list_chats()]
    activity = activity_rows(device.path)
    assert order == [big.chat_id, older.chat_id] and len(hits) == 50

    op_id = lib.delete_chat(big.chat_id, not_before_ms=device.clock.now + 5_000)
    assert [h.message_id for h in lib.search("zebra")] == [
        lib.list_messages(older.chat_id)[0].message.message_id
    ]
    assert lib.search("question") == [] and lib.search("big") == []
    assert [v.chat.chat_id for v in lib.list_chats()] == [older.chat_id]
    assert search_index_is_exact(device.path)

    assert lib.cancel(op_id) is True  # Undo: the chat comes back, searchable as before
    assert [(h.kind, h.message_id) for h in lib.search("zebra")] == hits
    assert [v.chat.chat_id for v in lib.list_chats()] == order
    assert activity_rows(device.path) == activity
    assert search_index_is_exact(device.path)

    lib.delete_chat(big.chat_id)
    assert lib.push().pushed == 1
    assert set(web.chats()) == {older.chat_id}
    assert [v.chat.chat_id for v in lib.list_chats()] == [older.chat_id]
    assert lib.search("question") == [] and lib.search("source") == []
    assert activity_rows(device.path) == {older.chat_id: activity[older.chat_id]}
    assert search_index_is_exact(device.path)


def test_an_edit_from_elsewhere_to_a_chat_being_deleted_stays_hidden_until_the_delete_is_refused(
    device: Device, web: WebApp
) -> None:
    """Another device edits a message of a chat whose delete is queued here: the pull
    stores the edit without showing it; the delete refused for good (parked) shows the
    chat again with the edited text searchable, the old text not, the order exact."""
    lib = device.lib
    other = lib.create_chat("other chat")
    lib.add_message(other.chat_id, "human", "walrus elsewhere")
    device.clock.advance(1_000)
    chat = lib.create_chat("doomed chat")
    message = lib.add_message(chat.chat_id, "human", "zebra original")
    lib.push()
    order = [v.chat.chat_id for v in lib.list_chats()]
    activity = activity_rows(device.path)
    assert order == [chat.chat_id, other.chat_id]

    op_id = lib.delete_chat(chat.chat_id, not_before_ms=device.clock.now + 5_000)
    web.client.update_item(
        TableName=TABLE,
        Key={"PK": {"S": USER}, "SK": {"S": f"MESSAGE#{message.message_id}"}},
        UpdateExpression="SET #d.#c = :t",
        ExpressionAttributeNames={"#d": "data", "#c": "content"},
        ExpressionAttributeValues={":t": {"S": "giraffe edited"}},
    )
    lib.pull(reconcile=True)
    assert lib.search("giraffe") == [] and lib.search("zebra") == [] and lib.search("doomed") == []
    assert [v.chat.chat_id for v in lib.list_chats()] == [other.chat_id]
    assert search_index_is_exact(device.path)

    device.clock.advance(10_000)
    device.faults.refuse["BatchWriteItem"] = "ValidationException"
    device.faults.refuse["DeleteItem"] = "ValidationException"
    assert lib.push().parked == 1
    [parked] = [op for op in device.ops() if op.state == "parked"]
    assert parked.op_id == op_id
    assert [h.message_id for h in lib.search("giraffe")] == [message.message_id]
    assert lib.search("zebra") == [] and {h.kind for h in lib.search("doomed")} == {"CHAT"}
    assert [v.chat.chat_id for v in lib.list_chats()] == order
    assert activity_rows(device.path) == activity
    assert search_index_is_exact(device.path)

    device.faults.clear()
    lib.retry(op_id)  # tried again: hidden again, then gone for good
    assert lib.search("giraffe") == [] and [v.chat.chat_id for v in lib.list_chats()] == [other.chat_id]
    assert lib.push().pushed == 1
    assert set(web.chats()) == {other.chat_id} and lib.search("giraffe") == []
    assert activity_rows(device.path) == {other.chat_id: activity[other.chat_id]}
    assert search_index_is_exact(device.path)


def indexed_rows(path: Path, word: str) -> int:
    """Rows of the mirror whose full-text entry holds ``word``, hidden or not."""
    query = "SELECT COUNT(*) FROM search_index WHERE search_index MATCH ?"
    with sqlite3.connect(path) as conn:
        return int(conn.execute(query, (word,)).fetchone()[0])


def index_pages(path: Path) -> list[tuple[int, bytes]]:
    """The full-text index's stored pages: any entry added or removed changes them."""
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT id, block FROM search_index_data ORDER BY id").fetchall()


def test_a_queued_chat_delete_keeps_the_index_as_it_is_and_undo_adds_nothing_back(
    device: Device, web: WebApp
) -> None:
    """Queuing the delete hides the chat, its messages and (through them) its sources at
    once, without touching the full-text index: the search leaves the chat out before it
    ranks, and Undo shows it all again with the index still untouched. A pass that
    fails offline hides every row for good, their entries removed."""
    lib = device.lib
    chat = lib.create_chat("doomed chat")
    lib.add_message(chat.chat_id, "ai", "zebra answer", [{"pageContent": "okapi passage"}] * 3)
    lib.push()
    hits = [(h.kind, h.message_id) for h in lib.search("okapi")]
    assert len(hits) == 3 and indexed_rows(device.path, "okapi") == 3
    pages = index_pages(device.path)

    op_id = lib.delete_chat(chat.chat_id, not_before_ms=device.clock.now + 5_000)
    assert lib.search("okapi") == [] and lib.search("zebra") == [] and lib.search("doomed") == []
    assert lib.list_chats() == [] and lib.list_sources(hits[0][1]) == []
    assert index_pages(device.path) == pages and search_index_is_exact(device.path)
    assert lib.cancel(op_id) is True
    assert [(h.kind, h.message_id) for h in lib.search("okapi")] == hits
    assert [h.kind for h in lib.search("doomed")] == ["CHAT"]
    assert index_pages(device.path) == pages and search_index_is_exact(device.path)

    lib.delete_chat(chat.chat_id)
    device.faults.down = True
    assert lib.push().error
    assert indexed_rows(device.path, "okapi") == 0 and lib.search("okapi") == []
    assert [v.chat.chat_id for v in lib.list_chats()] == []
    assert search_index_is_exact(device.path)
    device.faults.clear()
    assert lib.push(retry_now=True).pushed == 1
    assert web.items() == [] and lib.remote_snapshot() == []


def test_a_chat_delete_stopped_before_its_chat_item_finishes_later(device: Device, web: WebApp) -> None:
    """The messages and sources are forgotten once the server confirmed them gone, while
    the chat item's delete is on its way; when that request is lost, the chat stays
    hidden and queued, and the next pass (after a restart too) deletes the chat item."""
    lib = device.lib
    chat = lib.create_chat("doomed chat")
    for n in range(3):
        lib.add_message(chat.chat_id, "ai", f"answer {n}", [{"pageContent": f"passage {n}"}] * 2)
    lib.push()
    lib.delete_chat(chat.chat_id)
    device.faults.fail_after["DeleteItem"] = 0
    assert lib.push(retry_now=True).error
    assert set(by_key(web.items())) == {f"CHAT#{chat.chat_id}"}
    assert set(by_key(lib.remote_snapshot())) == {f"CHAT#{chat.chat_id}"}
    assert lib.list_chats() == [] and lib.status().pending == 1
    assert search_index_is_exact(device.path)

    device.faults.clear()
    device.restart()
    result = device.lib.push(retry_now=True)
    assert (result.pushed, result.pending, result.error) == (1, 0, None)
    assert web.items() == [] and device.lib.remote_snapshot() == []
    with sqlite3.connect(device.path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM known_sources").fetchone()[0] == 0


def test_an_operation_in_flight_cannot_be_cancelled(device: Device) -> None:
    lib = device.lib
    chat = lib.create_chat("t")
    lib.push()
    op_id = lib.delete_chat(chat.chat_id)
    device.faults.fail_after["BatchWriteItem"] = 0
    device.faults.fail_after["DeleteItem"] = 0
    lib.push()  # the delete started (its message query went out) and failed
    assert lib.cancel(op_id) is False


def test_created_and_deleted_before_a_push_costs_no_request(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("scratch")
    message = lib.add_message(chat.chat_id, "human", "hmm")
    keep = lib.create_chat("keep")
    draft = lib.add_message(keep.chat_id, "human", "draft")
    lib.delete_chat(chat.chat_id)
    lib.delete_message(keep.chat_id, draft.message_id)
    result = lib.push()
    assert result.dropped == 5 and result.pushed == 1
    assert device.faults.count() == 1  # the create of "keep" only
    assert set(web.chats()) == {keep.chat_id} and web.messages() == {}
    assert lib.get_chat(chat.chat_id) is None and message.message_id not in {
        v.message.message_id for v in lib.list_messages(chat.chat_id)
    }


def test_a_create_whose_answer_was_lost_is_written_again_when_missing(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("short-lived")
    device.faults.lose_writes = 1
    lib.push()
    [op] = device.ops()
    assert not op.cancellable  # it may have reached DynamoDB
    web.delete_chat(chat.chat_id)  # DynamoDB does not hold it now (as after a lost request)
    result = lib.push(retry_now=True)
    # A lost answer says nothing about what DynamoDB did: "not there" is written again,
    # conditionally (never twice), instead of being parked for the user to decide.
    assert (result.pushed, result.parked) == (1, 0) and device.ops() == []
    assert set(web.chats()) == {chat.chat_id}


def test_a_refused_connection_is_no_doubt(device: Device, web: WebApp) -> None:
    lib = device.lib
    lib.create_chat("t")
    device.faults.down = True
    lib.push()
    [op] = device.ops()
    assert op.cancellable and op.attempts == 1


def test_a_restart_between_commit_and_push_loses_nothing(device: Device, web: WebApp) -> None:
    chat = device.lib.create_chat("t")
    device.lib.add_message(chat.chat_id, "human", "written before the restart")
    device.restart()
    assert device.lib.push().pushed == 2
    assert [m["data"]["M"]["content"]["S"] for m in web.messages().values()] == ["written before the restart"]


def test_a_half_sent_message_deleted_before_its_retry_leaves_no_orphan_sources(
    device: Device, web: WebApp
) -> None:
    lib = device.lib
    chat = lib.create_chat("t")
    lib.push()
    message = lib.add_message(
        chat.chat_id, "ai", "answer", [{"pageContent": f"p{i}", "metadata": {}} for i in range(3)]
    )
    device.faults.without_transactions()  # sources and message in separate requests
    device.faults.fail_after["PutItem"] = 0  # the sources go, the message does not
    lib.push()
    assert len(web.items()) == 1 + 3  # the chat and three orphaned sources, for now
    [put] = [op for op in device.ops() if op.kind == "put_message"]
    assert not put.cancellable  # part of it reached DynamoDB
    device.faults.clear()
    lib.delete_message(chat.chat_id, message.message_id)
    lib.push(retry_now=True)
    assert list(by_key(web.items())) == [f"CHAT#{chat.chat_id}"]
    assert_mirror_is_remote(lib, web)


def test_a_message_to_a_chat_deleted_elsewhere_costs_one_request(device: Device, web: WebApp) -> None:
    lib = device.lib
    chat = lib.create_chat("t")
    lib.push()
    web.delete_chat(chat.chat_id)
    lib.add_message(
        chat.chat_id, "ai", "answer", [{"pageContent": f"p{i}", "metadata": {}} for i in range(40)]
    )
    before = len(device.faults.calls)
    result = lib.push()
    assert result.parked == 1 and result.requests == 1
    assert device.faults.calls[before:] == ["TransactWriteItems"]  # the chat's condition, no GetItem
    [op] = device.ops()
    assert op.error_kind == "chat_gone" and device.doubts() == [False]  # refused whole: nothing written
    assert web.items() == []


def test_a_lost_transaction_whose_message_is_missing_is_written_again(device: Device, web: WebApp) -> None:
    lib = device.lib
    tokens: list[str] = []
    device.client.meta.events.register(
        "provide-client-params.dynamodb.TransactWriteItems",
        lambda params, **_: tokens.append(params["ClientRequestToken"]),
    )
    chat = lib.create_chat("t")
    lib.push()
    message = lib.add_message(chat.chat_id, "ai", "answer", [{"pageContent": "p", "metadata": {}}])
    device.faults.lose_writes = 1
    assert lib.push().error
    assert device.faults.lost == ["TransactWriteItems"]
    [op] = device.ops()
    assert device.doubts() == [True] and not op.cancellable  # it may have been applied (it was)
    device.restart()
    web.delete_message(message.message_id)  # DynamoDB does not hold it now
    result = device.lib.push(retry_now=True)
    assert (result.pushed, result.parked) == (1, 0) and device.ops() == []
    # written again with a new idempotency token (the first would be answered from
    # DynamoDB's memory of the first write, writing nothing), with its source
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    assert set(web.messages()) == {message.message_id}
    assert [k for k in by_key(web.items()) if k.startswith("SOURCE#")] == [f"SOURCE#{message.message_id}#0"]


@pytest.mark.integration
def test_an_interrupted_chat_delete_leaves_no_source_behind(dynamodb_endpoint: str, tmp_path: Path) -> None:
    """A lost batch of source deletes stops the delete, and no message whose sources it
    held goes: a message is how the retry finds its sources (they were queried, not
    known to the mirror)."""
    web = WebApp(dynamodb_client(dynamodb_endpoint))
    create_galileo_table(web.client, TABLE)
    client = fast_client(dynamodb_endpoint)
    lost: list[int] = []

    def lose_one_source_batch(params: Any, **_: Any) -> None:
        batch = params["RequestItems"][TABLE]
        if not lost and all(r["DeleteRequest"]["Key"]["SK"]["S"].startswith("SOURCE#") for r in batch):
            lost.append(len(batch))
            raise EndpointConnectionError(endpoint_url=dynamodb_endpoint)

    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", lose_one_source_batch)
    with open_device(tmp_path / "mirror.sqlite3", client) as lib:
        lib.sync()
        web.create_chat("c1", "From the web app")
        for n in range(4):
            web.add_message("c1", f"a{n}", "ai", f"answer {n}", [f"passage {p}" for p in range(10)])
        lib.sync()  # listed, never opened: its sources are not known to the mirror
        lib.delete_chat("c1")
        assert lib.push(retry_now=True).error and lost
        left = by_key(web.items())
        assert {k.split("#")[0] for k in left} >= {"CHAT", "MESSAGE"}
        orphans = [k for k in left if k.startswith("SOURCE#") and f"MESSAGE#{k.split('#')[1]}" not in left]
        assert orphans == []
        result = lib.sync()
        assert (result.pending, result.parked) == (0, 0)
        assert web.items() == [] and lib.remote_snapshot() == []
