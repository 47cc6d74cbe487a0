"""A chat's delete under hostile conditions: search while it is queued, Undo after a
failed pass, the index lagging behind the mirror."""

from __future__ import annotations

import pytest
from test_sync_support import Device, WebApp, by_key

from galileio_desktop.data.dynamo.gateway import ChatGateway


def test_a_queued_chat_delete_does_not_crowd_other_chats_out_of_search(device: Device) -> None:
    """Until the delete is sent (offline: for days), the many sources of a chat whose
    delete is queued must not take the room of the hits that are shown."""
    lib = device.lib
    kept = lib.create_chat("kept chat")
    wanted = lib.add_message(kept.chat_id, "human", "okapi " + "filler words here " * 10)
    doomed = lib.create_chat("doomed chat")
    lib.add_message(doomed.chat_id, "ai", "answer", [{"pageContent": "okapi"}] * 40)
    lib.push()

    lib.delete_chat(doomed.chat_id, not_before_ms=device.clock.now + 60_000)
    assert [h.message_id for h in lib.search("okapi", limit=5)] == [wanted.message_id]


def test_a_chat_delete_deletes_the_mirror_messages_the_index_does_not_list_yet(
    device: Device, web: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GSI1 lags (absence from it never proves a deletion): a message the mirror holds,
    whose sources it never read, must not be left on the server with its sources when
    the chat goes."""
    lib = device.lib
    chat = lib.create_chat("chat")
    lib.push()
    web.add_message(chat.chat_id, "m1", "ai", "answer", ["passage a", "passage b"])
    lib.sync()  # the message is pulled; its sources are not known to the mirror
    assert any(k.startswith("MESSAGE#") for k in by_key(lib.remote_snapshot()))
    monkeypatch.setattr(ChatGateway, "list_message_keys", lambda self, chat_id: [])
    lib.delete_chat(chat.chat_id)
    assert lib.push(retry_now=True).error is None
    assert web.items() == []
