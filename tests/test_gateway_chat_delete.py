"""A chat's delete on in-process moto: each message after its own sources, the chat last,
known sources beside the listing, and what a failed batch leaves for the retry."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from test_gateway import TABLE, USER, all_items, gateway_for, new_message

from galileio_desktop.data.errors import EndpointUnreachable
from galileio_desktop.data.schema import Chat, key_of, new_id


class Wire:
    """What the client sends and what comes back, in order, across the pool's threads."""

    def __init__(self, client: Any) -> None:
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, list[str]]] = []
        self.fail_sk: str | None = None
        self.hold_listing: threading.Event | None = None
        client.meta.events.register("before-parameter-build.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    @staticmethod
    def _keys(model: Any, params: dict[str, Any]) -> list[str]:
        if model.name == "BatchWriteItem":
            return [r["DeleteRequest"]["Key"]["SK"]["S"] for r in params["RequestItems"][TABLE]]
        if model.name == "DeleteItem":
            return [params["Key"]["SK"]["S"]]
        return [params.get("IndexName", "table")]

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        keys = context["wire_keys"] = self._keys(model, params)
        with self.lock:
            self.log.append(("sent", model.name, keys))
        if self.fail_sk is not None and self.fail_sk in keys:
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        if self.hold_listing is not None and keys == ["GSI1"]:
            self.hold_listing.wait(5)

    def _after(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        with self.lock:
            self.log.append(("done", model.name, context["wire_keys"]))


def doomed_chat(gateway: Any, messages: int, sources: int) -> tuple[Chat, dict[str, list[Any]]]:
    """A chat on the table and its sources' keys by message, as a mirror knows them."""
    chat = Chat(new_id(), USER, "doomed", 1)
    gateway.create_chat(chat)
    known: dict[str, list[Any]] = {}
    for n in range(messages):
        message = new_message(USER, chat.chat_id, n_sources=sources, at=10 + n)
        gateway.put_message(message)
        known[message.message_id] = [key_of(s.to_item()) for s in message.sources]
    return chat, known


def test_each_message_goes_once_its_own_sources_are_gone_and_the_chat_last(ddb: Any) -> None:
    gateway = gateway_for(ddb)  # a pool of 4
    chat, known = doomed_chat(gateway, messages=100, sources=3)
    wire = Wire(ddb)
    result = gateway.delete_chat(chat.chat_id, known_sources=known)
    assert (result.deleted_messages, result.deleted_sources) == (100, 300)
    assert all_items(ddb) == []

    gone: set[str] = set()
    message_batches_before_last_source_batch = 0
    source_batches_left = 12
    for event, name, keys in wire.log:
        if event == "done" and name == "BatchWriteItem":
            gone.update(keys)
        if event != "sent" or name != "BatchWriteItem":
            continue
        if keys[0].startswith("SOURCE#"):
            source_batches_left -= 1
            continue
        message_batches_before_last_source_batch += source_batches_left > 0
        for sk in keys:
            message_id = sk.removeprefix("MESSAGE#")
            assert {k["SK"]["S"] for k in known[message_id]} <= gone, "a message went before its sources"
    # messages do not wait for sources they do not depend on
    assert message_batches_before_last_source_batch >= 1
    assert [k for _, name, k in wire.log if name == "DeleteItem"] == [[f"CHAT#{chat.chat_id}"]] * 2
    assert wire.log[-2][1:] == ("DeleteItem", [f"CHAT#{chat.chat_id}"])
    batches = [k for event, name, k in wire.log if event == "sent" and name == "BatchWriteItem"]
    assert len(batches) == 12 + 4  # full batches of 25 only: no request more than needed


def test_known_sources_go_while_the_messages_are_listed(ddb: Any) -> None:
    """The listing is needed only for messages the caller does not know: the known
    sources are deleted while it is on its way, not after it."""
    gateway = gateway_for(ddb)
    chat, known = doomed_chat(gateway, messages=20, sources=5)
    wire = Wire(ddb)
    wire.hold_listing = threading.Event()
    released: list[bool] = []

    def release_once_a_source_batch_is_done(**_: Any) -> None:
        if not released:
            released.append(True)
            assert wire.hold_listing is not None
            wire.hold_listing.set()

    ddb.meta.events.register("after-call.dynamodb.BatchWriteItem", release_once_a_source_batch_is_done)
    gateway.delete_chat(chat.chat_id, known_sources=known)
    listed_at = wire.log.index(("done", "Query", ["GSI1"]))
    assert ("done", "BatchWriteItem") in [(e, n) for e, n, _ in wire.log[:listed_at]]
    assert all_items(ddb) == []


@pytest.mark.parametrize("knows_sources", [True, False], ids=["known", "queried"])
def test_a_lost_source_batch_deletes_no_message_of_its_sources(ddb: Any, knows_sources: bool) -> None:
    """Every message whose sources are not all confirmed gone stays (it is how a retry
    finds them), the chat stays listed, no request is still running when the error
    arrives, and the retry deletes the rest."""
    gateway = gateway_for(ddb)
    chat, known = doomed_chat(gateway, messages=30, sources=4)
    wire = Wire(ddb)
    victim = next(iter(known))
    wire.fail_sk = known[victim][0]["SK"]["S"]
    with pytest.raises(EndpointUnreachable):
        gateway.delete_chat(chat.chat_id, known_sources=known if knows_sources else None)
    sent = sum(1 for event, *_ in wire.log if event == "sent")
    done = sum(1 for event, *_ in wire.log if event == "done")
    assert sent == done + 1  # only the lost request has no answer
    left = {i["SK"]["S"] for i in all_items(ddb)}
    assert f"CHAT#{chat.chat_id}" in left and f"MESSAGE#{victim}" in left
    for sk in left:
        if sk.startswith("SOURCE#"):
            assert f"MESSAGE#{sk.split('#')[1]}" in left, "a source lost its message"

    wire.fail_sk = None
    still_known = {m: k for m, k in known.items() if f"MESSAGE#{m}" in left}
    gateway.delete_chat(chat.chat_id, known_sources=still_known if knows_sources else None)
    assert all_items(ddb) == []


def test_the_caller_s_work_goes_beside_the_first_requests_and_the_chat_item(ddb: Any) -> None:
    """``once_sent`` runs once the first requests are handed to the pool, ``meanwhile`` once every
    message and source is confirmed gone; both on the caller's thread, once each."""
    gateway = gateway_for(ddb)
    chat, known = doomed_chat(gateway, messages=100, sources=3)
    wire = Wire(ddb)
    marks: list[tuple[str, list[tuple[str, str, list[str]]], threading.Thread]] = []

    def mark(name: str) -> None:
        with wire.lock:
            marks.append((name, list(wire.log), threading.current_thread()))

    gateway.delete_chat(
        chat.chat_id, known_sources=known, once_sent=lambda: mark("sent"), meanwhile=lambda: mark("gone")
    )
    assert [name for name, *_ in marks] == ["sent", "gone"]
    assert all(thread is threading.current_thread() for *_, thread in marks)
    _, at_sent, _ = marks[0]
    # right after the pool's first fill (4 requests), long before the 16 batches are done
    assert sum(1 for event, name, _ in at_sent if event == "done" and name == "BatchWriteItem") <= 3
    _, at_gone, _ = marks[1]
    batches = [keys for event, name, keys in wire.log if name == "BatchWriteItem" and event == "done"]
    assert [keys for event, name, keys in at_gone if name == "BatchWriteItem" and event == "done"] == batches
    assert ("sent", "DeleteItem", [f"CHAT#{chat.chat_id}"]) in wire.log
    assert all_items(ddb) == []
