"""Property-based: two devices of one user and the web app, every operation interleaved
with faults (endpoint down, throttling, responses lost after the write was applied,
restarts between a local commit and its push). Once the faults stop and every device
has synced, the invariants of DESIGN.md section 4 must hold:

1. every device's mirror equals the user's remote items, attribute for attribute;
2. no accepted write is lost (it is on the server exactly once, or shown as failed);
3. nothing is duplicated, and nothing deleted comes back (no orphans either), with one
   documented exception: a write whose answer was lost is written again when DynamoDB
   does not hold it, so the web app deleting it in that window brings it back (once).

Examples and steps: ``MAX_EXAMPLES`` x ``STEPS`` (see the README's testing section).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule
from moto import mock_aws
from servers import create_galileo_table
from test_sync_support import TABLE, Clock, Faults, WebApp, by_key, fast_client, open_device

from galileio_desktop.data.errors import EndpointUnreachable, NotFound, Throttled
from galileio_desktop.data.sync import ChatLibrary

MAX_EXAMPLES = 60
STEPS = 30

DEVICES = st.sampled_from([0, 1])
TITLES = st.sampled_from(["Plans", "Budget", "Ideas", "Trip", "Notes"])
NETWORKS = ["ok", "ok", "lose", "lose", "down", "throttle"]
#: how the network behaves during a push or sync
NETWORK = st.sampled_from(NETWORKS)
#: after a write: no push (offline, or the user is quick), or a push through this network
PUSH_NOW = st.sampled_from([None, *NETWORKS])


@dataclass(frozen=True)
class Written:
    chat_id: str
    content: str
    sources: int


class Device:
    def __init__(self, path: Path, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self.client = fast_client()
        self.faults = Faults(self.client)
        self.lib: ChatLibrary = open_device(path, self.client, clock)

    def restart(self) -> None:
        self.lib.close()
        self.lib = open_device(self.path, self.client, self.clock)

    def chats(self, order: list[str]) -> list[str]:
        shown = {v.chat.chat_id for v in self.lib.list_chats()}
        return [chat_id for chat_id in order if chat_id in shown]


class TwoDevicesAndTheWebApp(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        admin = fast_client()
        create_galileo_table(admin, TABLE)
        self.folder = Path(tempfile.mkdtemp(prefix="galileio-stateful-"))
        self.clock = Clock()
        self.web = WebApp(admin, clock=self.clock)
        self.devices = [Device(self.folder / f"device-{n}.sqlite3", self.clock) for n in range(2)]
        self.counter = itertools.count()
        #: every chat id in the order it was made: choices never depend on random ids
        self.chat_order: list[str] = []
        self.titles: dict[str, set[str]] = {}
        self.messages: dict[str, Written] = {}
        self.deleted_chats: set[str] = set()
        self.deleted_messages: set[str] = set()
        self.device_deletes: dict[tuple[int, int], str] = {}
        #: ids deleted by the web app while a device's write of them was in doubt
        self.rewritable: set[str] = set()

    @initialize()
    def history(self) -> None:
        """Every example starts from a used account: chats on the server and on both devices."""
        for _ in range(2):
            chat_id = f"web-chat-{next(self.counter)}"
            self.web.create_chat(chat_id, "Earlier")
            self.titles[chat_id] = {"Earlier"}
            self.chat_order.append(chat_id)
            self.web_adds_exchange_in(chat_id, 1)
        for device in self.devices:
            device.lib.sync()
            for chat_id in self.chat_order:
                device.lib.open_chat(chat_id)

    # -- devices ---------------------------------------------------------------------------

    def _through(self, d: int, network: str) -> Faults:
        faults = self.devices[d].faults
        faults.clear()
        faults.down = network == "down"
        faults.throttle = network == "throttle"
        faults.lose_all_writes = network == "lose"
        return faults

    def _maybe_push(self, d: int, push_now: str | None) -> None:
        """The window pushes right after a write when it believes it is online."""
        if push_now is not None:
            self._through(d, push_now)
            self.devices[d].lib.push()

    @rule(d=DEVICES, title=TITLES, push_now=PUSH_NOW)
    def device_creates_chat(self, d: int, title: str, push_now: str | None) -> None:
        chat = self.devices[d].lib.create_chat(title)
        self.titles[chat.chat_id] = {title}
        self.chat_order.append(chat.chat_id)
        self._maybe_push(d, push_now)

    @rule(d=DEVICES, title=TITLES, push_now=PUSH_NOW, data=st.data())
    def device_renames_chat(self, d: int, title: str, push_now: str | None, data: st.DataObject) -> None:
        chats = self.devices[d].chats(self.chat_order)
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            try:
                self.devices[d].lib.rename_chat(chat_id, title)
            except NotFound:  # a chat deleted elsewhere, shown for its unsent messages
                return
            self.titles[chat_id].add(title)
            self._maybe_push(d, push_now)

    @rule(d=DEVICES, undo_window=st.booleans(), push_now=PUSH_NOW, data=st.data())
    def device_deletes_chat(
        self, d: int, undo_window: bool, push_now: str | None, data: st.DataObject
    ) -> None:
        chats = self.devices[d].chats(self.chat_order)
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            not_before = self.clock.now + 60_000 if undo_window else None
            op_id = self.devices[d].lib.delete_chat(chat_id, not_before_ms=not_before)
            self.device_deletes[(d, op_id)] = chat_id
            self._maybe_push(d, push_now)

    @rule(d=DEVICES, data=st.data())
    def device_undoes_a_delete(self, d: int, data: st.DataObject) -> None:
        mine = sorted(key for key in self.device_deletes if key[0] == d)
        if mine:
            key = data.draw(st.sampled_from(mine))
            if self.devices[d].lib.cancel(key[1]):
                del self.device_deletes[key]

    @rule(
        d=DEVICES,
        kind=st.sampled_from(["human", "ai"]),
        sources=st.integers(0, 3),
        push_now=PUSH_NOW,
        data=st.data(),
    )
    def device_adds_message(
        self, d: int, kind: str, sources: int, push_now: str | None, data: st.DataObject
    ) -> None:
        chats = self.devices[d].chats(self.chat_order)
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            content = f"device {d} says {next(self.counter)}"
            drafts = [
                {"pageContent": f"{content} / source {i}", "metadata": {"i": i}} for i in range(sources)
            ]
            try:
                message = self.devices[d].lib.add_message(chat_id, kind, content, drafts)
            except NotFound:
                return
            self.messages[message.message_id] = Written(chat_id, content, sources)
            self._maybe_push(d, push_now)

    @rule(d=DEVICES, push_now=PUSH_NOW, data=st.data())
    def device_deletes_message(self, d: int, push_now: str | None, data: st.DataObject) -> None:
        chats = self.devices[d].chats(self.chat_order)
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            messages = [v.message.message_id for v in self.devices[d].lib.list_messages(chat_id)]
            if messages:
                message_id = data.draw(st.sampled_from(messages))
                self.devices[d].lib.delete_message(chat_id, message_id)
                self.deleted_messages.add(message_id)
                self._maybe_push(d, push_now)

    @rule(d=DEVICES, network=NETWORK)
    def device_pushes(self, d: int, network: str) -> None:
        self._through(d, network)
        self.devices[d].lib.push()

    @rule(d=DEVICES, network=NETWORK)
    def device_syncs(self, d: int, network: str) -> None:
        self._through(d, network)
        try:
            self.devices[d].lib.sync()
        except (EndpointUnreachable, Throttled):
            pass

    @rule(d=DEVICES)
    def device_restarts(self, d: int) -> None:
        self.devices[d].restart()

    @rule(ms=st.sampled_from([1_000, 10_000, 120_000]))
    def time_passes(self, ms: int) -> None:
        self.clock.advance(ms)

    # -- the web app -----------------------------------------------------------------------

    def _web_chats(self) -> list[str]:
        on_server = self.web.chats()
        return [chat_id for chat_id in self.chat_order if chat_id in on_server]

    @rule(title=TITLES)
    def web_creates_chat(self, title: str) -> None:
        chat_id = f"web-chat-{next(self.counter)}"
        self.web.create_chat(chat_id, title)
        self.titles[chat_id] = {title}
        self.chat_order.append(chat_id)

    @rule(title=TITLES, data=st.data())
    def web_renames_chat(self, title: str, data: st.DataObject) -> None:
        chats = self._web_chats()
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            self.web.rename_chat(chat_id, title)
            self.titles[chat_id].add(title)

    @rule(data=st.data())
    def web_deletes_chat(self, data: st.DataObject) -> None:
        chats = self._web_chats()
        if chats:
            chat_id = data.draw(st.sampled_from(chats))
            self._note_doubts()
            self.web.delete_chat(chat_id)
            self.deleted_chats.add(chat_id)

    @rule(sources=st.integers(0, 3), data=st.data())
    def web_adds_exchange(self, sources: int, data: st.DataObject) -> None:
        chats = self._web_chats()
        if chats:
            self.web_adds_exchange_in(data.draw(st.sampled_from(chats)), sources)

    def web_adds_exchange_in(self, chat_id: str, sources: int) -> None:
        n = next(self.counter)
        question, answer = f"web-q-{n}", f"web-a-{n}"
        self.web.add_message(chat_id, question, "human", f"web asks {n}")
        passages = [f"web answer {n} / source {i}" for i in range(sources)]
        self.web.add_message(chat_id, answer, "ai", f"web answers {n}", passages)
        self.messages[question] = Written(chat_id, f"web asks {n}", 0)
        self.messages[answer] = Written(chat_id, f"web answers {n}", sources)

    @rule(data=st.data())
    def web_deletes_message(self, data: st.DataObject) -> None:
        on_server = self.web.messages()
        messages = [m for m in self.messages if m in on_server]
        if messages:
            message_id = data.draw(st.sampled_from(messages))
            self._note_doubts()
            self.web.delete_message(message_id)
            self.deleted_messages.add(message_id)

    def _note_doubts(self) -> None:
        for device in self.devices:
            for op in device.lib.status().operations:
                if op.in_doubt:
                    self.rewritable.add(op.message_id or op.chat_id)

    # -- the end: faults stop, everyone syncs, the invariants hold ------------------------------

    def teardown(self) -> None:
        try:
            self._settle()
            self._check()
        finally:
            for device in self.devices:
                device.lib.close()
            self.mock.stop()
            shutil.rmtree(self.folder, ignore_errors=True)

    def _settle(self) -> None:
        for device in self.devices:
            device.faults.clear()
        self.clock.advance(3_600_000)  # every Undo window and backoff is over
        for _ in range(2):
            for device in self.devices:
                device.lib.sync()
        for device in self.devices:
            device.lib.pull(reconcile=True)
        # what the example went through (pytest --hypothesis-show-statistics)
        lost = sum(len(device.faults.lost) for device in self.devices)
        event(f"responses lost after the write: {'none' if not lost else '1-2' if lost < 3 else '3+'}")
        for device in self.devices:
            for op in device.lib.status().operations:
                event(f"parked: {op.error_kind or 'held behind a parked create'}")

    def _check(self) -> None:
        remote = by_key(self.web.items())
        chats = {v["chatId"]["S"]: v for k, v in remote.items() if k.startswith("CHAT#")}
        messages = {v["messageId"]["S"]: v for k, v in remote.items() if k.startswith("MESSAGE#")}
        sources = [v for k, v in remote.items() if k.startswith("SOURCE#")]
        deleted_chats = self.deleted_chats | set(self.device_deletes.values())

        # 1. every mirror is the server, attribute for attribute
        for device in self.devices:
            assert by_key(device.lib.remote_snapshot()) == remote

        # 3. nothing deleted comes back; no orphans; no duplicates
        assert not (deleted_chats & set(chats)) - self.rewritable, "a deleted chat is back"
        assert not (self.deleted_messages & set(messages)) - self.rewritable, "a deleted message is back"
        assert all(m["chatId"]["S"] in chats for m in messages.values()), "a message outlived its chat"
        assert all(s["messageId"]["S"] in messages for s in sources), "a source outlived its message"
        contents = Counter(m["data"]["M"]["content"]["S"] for m in messages.values())
        assert all(n == 1 for n in contents.values()), "a message was written twice"

        # 2. every accepted write is on the server, or shown as failed on its device
        failed = self._failed_writes()
        for chat_id, titles in self.titles.items():
            if chat_id in deleted_chats:
                continue
            if chat_id in chats:
                assert chats[chat_id]["title"]["S"] in titles
            else:
                assert chat_id in failed, f"chat {chat_id} was lost"
        for message_id, written in self.messages.items():
            if message_id in self.deleted_messages or written.chat_id in deleted_chats:
                continue
            if message_id in messages:
                assert messages[message_id]["data"]["M"]["content"]["S"] == written.content
                mine = [s for s in sources if s["messageId"]["S"] == message_id]
                assert len(mine) == written.sources
            else:
                assert message_id in failed or written.chat_id in failed, (
                    f"message {written.content!r} was lost"
                )

        # every device shows the server (plus what failed, flagged), renames converged
        for device in self.devices:
            views = {v.chat.chat_id: v for v in device.lib.list_chats()}
            for chat_id, item in chats.items():
                assert views[chat_id].chat.title == item["title"]["S"]
                shown = {v.message.message_id for v in device.lib.list_messages(chat_id) if not v.pending}
                assert shown == {m for m, i in messages.items() if i["chatId"]["S"] == chat_id}
            for chat_id in set(views) - set(chats):
                assert views[chat_id].parked_error, "a chat the server lacks is shown without an error"

    def _failed_writes(self) -> set[str]:
        """Chat and message ids whose writes are parked (shown as failed) on a device,
        or held behind a parked chat create."""
        failed: set[str] = set()
        for device in self.devices:
            status = device.lib.status()
            for op in status.operations:
                if op.state == "parked":
                    assert op.error and op.error_kind == "chat_gone", op
                else:
                    assert op.held, f"{op} left pending"
                failed.add(op.message_id or op.chat_id)
        return failed


TestTwoDevicesAndTheWebApp = TwoDevicesAndTheWebApp.TestCase
TestTwoDevicesAndTheWebApp.settings = settings(
    max_examples=MAX_EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestTwoDevicesAndTheWebApp.pytestmark = [pytest.mark.slow]
