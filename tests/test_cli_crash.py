"""The command line's own writes, its process killed with SIGKILL at random moments.

A real ``python -m galileio_desktop`` process makes each write, over real HTTP, on
moto's server and on dynalite, and is killed in the middle of it:

- ``changes retry --all``: an answer queued offline for a chat the web app deleted
  meanwhile (``sync`` exits 6, the answer is kept, parked) is sent again once the chat
  is back;
- ``messages add CHAT TEXT --sources FILE``: an answer with hundreds to two thousand
  passages. One that fits in one transaction with the chat's condition (98 passages at
  most) is one TransactWriteItems on moto's server; any other, and every one on
  dynalite (no transactions), is its passages in batches, then the message;
- ``chats delete CHAT``: a chat of hundreds to thousands of items (the web app's
  messages and the answers above), deleted in many batch requests.

Each command is first run to the end once while the test reads the mirror's queue, to
measure how long it takes to commit its change locally, to start sending it, to send
it, and to exit. The kills are then spread over those windows with a seeded
``random.Random``: before the local commit, during the push (mostly while requests are
in flight), after it. A kill is judged by what the library and DynamoDB hold right
after it, never by when it was sent. Then the script behind the command does what
scripts do (run the same command again at once, or leave it) and a fresh ``sync
--json`` runs. After every one:

- ``sync`` exits 0 with nothing pending or refused (6, with exactly the change the
  scenario parked on purpose, and nothing else);
- the command's write is on the server completely (the answer with all its passages,
  exactly as given; the chat gone with every message and passage) or not at all, and
  nothing else in the table changed; a change the mirror holds as confirmed is
  complete on the server already at the moment of the kill, and one not committed
  left no trace there;
- a write is never lost once committed locally, never doubled by the replay of a
  write in doubt nor by the script running the command again: a second ``messages
  add`` is a second message (a new id), so answers are counted by their unique text
  and checked by id where the command printed it;
- no passage without its message, no message without its chat; the web app's other
  chat is untouched; the mirror equals the server attribute for attribute.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, WebApp, by_key

from galileio_desktop.data.sync import ChatLibrary

pytestmark = pytest.mark.integration

Items = dict[str, dict[str, Any]]

RETRY, ADD, DELETE = "changes retry", "messages add", "chats delete"
COMMANDS = (RETRY, ADD, DELETE)
BEFORE, MID, AFTER, FINISHED = "before commit", "mid push", "after push", "finished"
AIMS = (BEFORE, MID, AFTER)
#: Generous bounds for a loaded machine; nothing is asserted about time.
COMMAND_TIMEOUT_S = 300.0
PHASE_DEADLINE_S = 120.0
POLL_S = 0.002
#: Passages of an answer that fits in one transaction (100 actions: the chat's condition,
#: the message, 98 passages).
ONE_TRANSACTION = (60, 98)
#: moto's server answers more slowly the bigger its table: its answers stay below this.
MOTO_MOST_PASSAGES = 1000
BYSTANDER = "kept-by-the-web-app"


@dataclass(frozen=True)
class Variant:
    name: str
    #: rounds with kills, after the one that measures the commands
    rounds: int
    #: passages of an answer too big for one transaction
    big_answer: tuple[int, int]
    #: question/answer pairs the web app adds to the chat before it is deleted
    pairs: tuple[int, int]
    #: passages of each of those answers
    passages: tuple[int, int]


FAST = Variant("fast", rounds=1, big_answer=(200, 400), pairs=(10, 14), passages=(6, 10))
SLOW = Variant("slow", rounds=3, big_answer=(200, 2000), pairs=(20, 50), passages=(5, 15))


@dataclass(frozen=True)
class Windows:
    """How long a command took, measured (s): to its local commit; from there until the
    change goes out (the network stack starts); its requests; from their end to the exit."""

    commit: float
    setup: float
    send: float
    tail: float


@dataclass(frozen=True)
class Ended:
    """How a command's process ended: its exit code (negative: the signal) and output."""

    returncode: int
    stdout: str
    stderr: str

    def document(self) -> Any:
        assert self.returncode == 0, self.stderr
        return json.loads(self.stdout)


class QueueWatch:
    """The mirror's queue (its ``outbox`` table) read while a command runs, to measure the
    phases and aim a kill at one. Read-only; the verdicts come from the library and the
    server, never from here."""

    def __init__(self, mirror: Path) -> None:
        self._conn = sqlite3.connect(f"file:{mirror}?mode=ro", uri=True, timeout=0.05, isolation_level=None)

    def read(self) -> tuple[int, int] | None:
        """(changes waiting to be sent, refused ones aside; changes being sent right now),
        or None when the queue cannot be read at this instant."""
        try:
            row = self._conn.execute(
                "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(sending != 0), 0) FROM outbox"
            ).fetchone()
        except sqlite3.Error:
            return None
        return int(row[0]), int(row[1])

    def close(self) -> None:
        self._conn.close()


class Cli:
    """``galileio-desktop --json`` as separate processes on one data folder."""

    def __init__(self, endpoint: str, data_dir: Path, logs: Path) -> None:
        self.endpoint = endpoint
        self.data_dir = data_dir
        self.logs = logs
        self.env = {
            **os.environ,
            "GALILEIO_TABLE": TABLE,
            "GALILEIO_USER_ID": USER,
            "GALILEIO_DATA_DIR": str(data_dir),
        }
        self._runs = 0

    def argv(self, args: tuple[str, ...]) -> list[str]:
        options = ["--endpoint-url", self.endpoint, "--json", "--timeout", str(int(COMMAND_TIMEOUT_S))]
        return [sys.executable, "-m", "galileio_desktop", *options, *args]

    def run(self, *args: str, expect: int = 0) -> Ended:
        result = subprocess.run(
            self.argv(args), capture_output=True, text=True, env=self.env, timeout=COMMAND_TIMEOUT_S
        )
        ended = Ended(result.returncode, result.stdout, result.stderr)
        assert result.returncode == expect, f"{args}: exit {result.returncode}, not {expect}\n{result.stderr}"
        return ended

    def __call__(self, *args: str) -> Any:
        return self.run(*args).document()

    @contextmanager
    def started(
        self, args: tuple[str, ...]
    ) -> Iterator[tuple[subprocess.Popen[bytes], float, Callable[[], Ended]]]:
        """The command running (stdout to a file: a pipe nobody reads would block it)."""
        self._runs += 1
        out = self.logs / f"{self._runs:03d}.out"
        err = self.logs / f"{self._runs:03d}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            process = subprocess.Popen(self.argv(args), stdout=stdout, stderr=stderr, env=self.env)
        started = time.monotonic()

        def ended() -> Ended:
            code = process.wait(timeout=COMMAND_TIMEOUT_S)
            return Ended(code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))

        try:
            yield process, started, ended
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=60)


# -- items --------------------------------------------------------------------------------


def of_chat(item: dict[str, Any], chat_id: str) -> bool:
    return item.get("chatId", {}).get("S") == chat_id


def of_message(items: Items, message_id: str) -> Items:
    return {
        k: v
        for k, v in items.items()
        if k == f"MESSAGE#{message_id}" or k.startswith(f"SOURCE#{message_id}#")
    }


def content(item: dict[str, Any]) -> str:
    return str(item["data"]["M"]["content"]["S"])


def drafts_for(label: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "pageContent": f"{label}, passage {i}: " + "retention of invoices and travel rules " * 8,
            "metadata": {
                "source_location": f"s3://docs/{label.replace(' ', '-')}/{i}.pdf",
                "section_index": i,
            },
        }
        for i in range(count)
    ]


def assert_complete(
    items: Items, message_id: str, chat_id: str, text: str, drafts: list[dict[str, Any]]
) -> None:
    """The answer and every passage as given, nothing more."""
    mine = of_message(items, message_id)
    message = mine.get(f"MESSAGE#{message_id}")
    assert message is not None, f"message {message_id} is not on the server"
    assert content(message) == text and message["type"] == {"S": "ai"} and of_chat(message, chat_id)
    assert len(mine) == 1 + len(drafts), f"{message_id}: {len(mine) - 1} of {len(drafts)} passages"
    for index, draft in enumerate(drafts):
        source = mine[f"SOURCE#{message_id}#{index}"]
        assert source["pageContent"] == {"S": draft["pageContent"]}
        assert source["metadata"] == {
            "M": {
                "source_location": {"S": draft["metadata"]["source_location"]},
                "section_index": {"N": str(index)},
            }
        }
        assert of_chat(source, chat_id) and source["messageId"] == {"S": message_id}


def web_app_items(chat_id: str, pairs: int, passages: int, rng: random.Random) -> list[dict[str, Any]]:
    """Questions and answers with their passages, in the web app's shapes."""
    found: list[dict[str, Any]] = []
    at = int(time.time() * 1000)
    for pair in range(pairs):
        for kind in ("human", "ai"):
            at += 1
            message_id = str(uuid.UUID(int=rng.getrandbits(128)))
            common = {"chatId": {"S": chat_id}, "userId": {"S": USER}, "createdAt": {"N": str(at)}}
            found.append(
                {
                    "PK": {"S": USER},
                    "SK": {"S": f"MESSAGE#{message_id}"},
                    "GSI1PK": {"S": f"{USER}#CHAT#{chat_id}"},
                    "GSI1SK": {"S": str(at)},
                    "messageId": {"S": message_id},
                    "type": {"S": kind},
                    "data": {
                        "M": {
                            "content": {"S": f"{kind} {pair} of the web app"},
                            "additional_kwargs": {"M": {}},
                        }
                    },
                    "entity": {"S": "MESSAGE"},
                    **common,
                }
            )
            for index in range(passages if kind == "ai" else 0):
                found.append(
                    {
                        "PK": {"S": USER},
                        "SK": {"S": f"SOURCE#{message_id}#{index}"},
                        "sourceId": {"S": str(index)},
                        "messageId": {"S": message_id},
                        "entity": {"S": "SOURCE"},
                        "pageContent": {"S": f"passage {index} of answer {pair}"},
                        "metadata": {"M": {"source_location": {"S": f"s3://docs/{index}.pdf"}}},
                        **common,
                    }
                )
    return found


def batch_put(client: Any, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        pending = [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]
        for _ in range(50):
            answer = client.batch_write_item(RequestItems={TABLE: pending})
            pending = answer.get("UnprocessedItems", {}).get(TABLE, [])
            if not pending:
                break
            time.sleep(0.05)
        assert not pending, "the test server left items unwritten"


# -- the run ------------------------------------------------------------------------------


class CrashRun:
    """One server, one data folder: rounds of the three commands, measured, then killed."""

    def __init__(self, server: str, endpoint: str, data_dir: Path, tmp_path: Path, variant: Variant) -> None:
        self.server_kind = server
        self.variant = variant
        self.client = dynamodb_client(endpoint)
        create_galileo_table(self.client, TABLE)
        self.web = WebApp(self.client, clock=lambda: int(time.time() * 1000))
        logs = tmp_path / "logs"
        logs.mkdir()
        self.cli = Cli(endpoint, data_dir, logs)
        self.files = tmp_path
        self.rng = random.Random(f"cli-crash/{server}/{variant.name}")
        self.windows: dict[str, Windows] = {}
        self.landed: Counter[tuple[str, str]] = Counter()
        self.half_done: list[str] = []

        self.web.create_chat(BYSTANDER, "Kept by the web app")
        self.web.add_message(BYSTANDER, "web-question", "human", "What is kept?")
        self.web.add_message(BYSTANDER, "web-answer", "ai", "Invoices.", ["p0", "p1", "p2"])
        self.bystander = {k: v for k, v in self.server().items() if of_chat(v, BYSTANDER)}
        assert len(self.bystander) == 6
        first = self.cli.run("sync")
        assert json.loads(first.stdout)["pending"] == 0
        mirrors = sorted(data_dir.rglob("*.sqlite3"))
        assert len(mirrors) == 1, mirrors
        self.mirror = mirrors[0]

    # -- reading both sides ---------------------------------------------------------------

    def server(self) -> Items:
        return by_key(self.web.items())

    @contextmanager
    def local(self) -> Iterator[ChatLibrary]:
        """The mirror as the app opens it (offline; the command's process is gone)."""
        with ChatLibrary(self.mirror, USER) as library:
            yield library

    def sync(self, parked: int = 0) -> Items:
        """A fresh ``sync --json``, and the invariants every synced state keeps."""
        ended = self.cli.run("sync", expect=6 if parked else 0)
        document = json.loads(ended.stdout)
        assert (document["pending"], document["parked"]) == (0, parked), ended.stdout
        remote = self.server()
        with self.local() as library:
            status = library.status()
            assert (status.pending, status.parked) == (0, parked)
            assert all(op.error_kind == "chat_gone" for op in status.parked_operations)
            assert by_key(library.remote_snapshot()) == remote  # attribute for attribute
        chats = {v["chatId"]["S"] for k, v in remote.items() if k.startswith("CHAT#")}
        messages = {v["messageId"]["S"] for k, v in remote.items() if k.startswith("MESSAGE#")}
        for key, item in remote.items():
            if key.startswith("SOURCE#"):
                assert key.split("#")[1] in messages, f"orphaned passage {key}"
            elif key.startswith("MESSAGE#"):
                assert item["chatId"]["S"] in chats, f"message {key} without its chat"
        assert {k: v for k, v in remote.items() if of_chat(v, BYSTANDER)} == self.bystander
        return remote

    # -- running a command: measured, or killed -------------------------------------------

    def execute(self, command: str, args: tuple[str, ...], aim: str | None) -> Ended:
        """Run the command to its end and measure it (``aim`` None), or kill it at a random
        moment of the phase ``aim``, spread over that phase's measured length."""
        watch = QueueWatch(self.mirror)
        try:
            with self.cli.started(args) as (process, started, ended):
                if aim is None:
                    self.windows[command] = self._measure(process, started, watch)
                else:
                    self._kill(process, started, watch, self.windows[command], aim)
                return ended()
        finally:
            watch.close()

    def _measure(self, process: subprocess.Popen[bytes], started: float, watch: QueueWatch) -> Windows:
        committed = sending = pushed = None
        while process.poll() is None:
            queue = watch.read()
            now = time.monotonic() - started
            if queue is not None:
                if queue[0] and committed is None:
                    committed = now
                if queue[1] and sending is None:
                    sending = now
                if not queue[0] and committed is not None and pushed is None:
                    pushed = now
            time.sleep(POLL_S)
        end = time.monotonic() - started
        assert committed is not None and pushed is not None, "the change was never seen queued, then sent"
        sending = committed if sending is None else sending  # too quick to be seen
        return Windows(committed, sending - committed, pushed - sending, max(end - pushed, 0.001))

    def _kill(
        self, process: subprocess.Popen[bytes], started: float, watch: QueueWatch, windows: Windows, aim: str
    ) -> None:
        """Kill at a random moment of the phase ``aim``: before the commit; during the push
        (a quarter of them while the network stack starts, the rest while its requests are
        in flight); after it, before the exit."""
        fraction, setup = self.rng.random(), self.rng.random() < 0.25
        if aim == BEFORE:
            moment = started + (0.1 + 0.9 * fraction) * windows.commit
        elif aim == MID and setup:
            self._until(process, watch, lambda queue: queue[0] > 0)
            moment = time.monotonic() + fraction * windows.setup
        elif aim == MID:
            self._until(process, watch, lambda queue: queue[1] > 0)
            moment = time.monotonic() + fraction * windows.send
        else:
            if self._until(process, watch, lambda queue: queue[0] > 0):
                self._until(process, watch, lambda queue: queue[0] == 0)
            moment = time.monotonic() + fraction * windows.tail
        try:
            process.wait(timeout=max(0.0, moment - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)

    @staticmethod
    def _until(
        process: subprocess.Popen[bytes], watch: QueueWatch, condition: Callable[[tuple[int, int]], bool]
    ) -> bool:
        """Wait until the queue meets ``condition``; False when the process ended first."""
        deadline = time.monotonic() + PHASE_DEADLINE_S
        while process.poll() is None:
            queue = watch.read()
            if queue is not None and condition(queue):
                return True
            assert time.monotonic() < deadline, "the command neither went on nor ended"
            time.sleep(POLL_S)
        return False

    def judged(self, command: str, ended: Ended, aim: str | None, phase: str) -> None:
        """Where a kill aimed at ``aim`` landed (a run to the end is not a kill)."""
        assert ended.returncode in (0, -signal.SIGKILL), ended.stderr
        if aim is not None:
            self.landed[(command, phase)] += 1

    # -- one round ------------------------------------------------------------------------

    def round(self, number: int, aims: dict[str, str] | None) -> None:
        """``aims``: where each command's kill is aimed; None: run them all to the end."""
        chat = self.cli("chats", "create", f"Round {number}")
        assert chat["pending"] is False
        chat_id = chat["chatId"]
        # The answer sent again fits in one transaction: moto's server copies its whole
        # table for each one, so it goes while the table is small. The answer added is
        # big (batches, then the message), but in every second round with kills on moto.
        moto = self.server_kind == "moto-server"
        big = self.variant.big_answer
        if moto:
            big = (big[0], min(big[1], MOTO_MOST_PASSAGES))
        retry_size = self.rng.randint(*ONE_TRANSACTION)
        one_transaction = moto and number > 0 and number % 2 == 0
        add_size = self.rng.randint(*(ONE_TRANSACTION if one_transaction else big))
        for index, command in enumerate(COMMANDS):
            aim = None if aims is None else aims[command]
            again = aims is not None and (number + index) % 2 == 1  # the script runs it again at once
            if command == RETRY:
                self.retry_round(number, chat_id, retry_size, aim, again)
            elif command == ADD:
                self.add_round(number, chat_id, add_size, aim, again)
            else:
                self.delete_round(chat_id, aim, again)
        assert self.server() == self.bystander  # the round's chat is gone, with everything in it
        listed = self.cli("--offline", "chats", "list")
        assert [(c["chatId"], c["pending"]) for c in listed] == [(BYSTANDER, False)]

    def park(self, number: int, chat_id: str, size: int) -> tuple[str, list[dict[str, Any]], str, int]:
        """An answer queued offline for a chat the web app deletes meanwhile: refused, kept."""
        text = f"answer {number} kept while its chat was gone"
        drafts = drafts_for(f"round {number} retried", size)
        path = self.files / f"retried-{number}.json"
        path.write_text(json.dumps(drafts), encoding="utf-8")
        queued = self.cli(
            "--offline", "messages", "add", chat_id, text, "--type", "ai", "--sources", str(path)
        )
        assert queued["pending"] is True
        self.web.delete_chat(chat_id)  # in the web app
        remote = self.sync(1)
        assert not of_message(remote, queued["messageId"])
        with self.local() as library:
            [op] = library.status().parked_operations
        assert op.message_id == queued["messageId"]
        self.web.create_chat(chat_id, "Restored in the web app")
        return queued["messageId"], drafts, text, op.op_id

    def retry_round(self, number: int, chat_id: str, size: int, aim: str | None, again: bool) -> None:
        message_id, drafts, text, op_id = self.park(number, chat_id, size)
        args = ("changes", "retry", "--all")
        before = self.server()
        ended = self.execute(RETRY, args, aim)
        with self.local() as library:
            ops = {op.op_id: op for op in library.status().operations}
            shown = [v for v in library.list_messages(chat_id) if v.message.message_id == message_id]
        now = self.server()
        mine = ops.get(op_id)
        if ended.returncode == 0:
            phase = FINISHED
            assert ended.document() == {"retried": [op_id], "pending": False}
        elif mine is not None and mine.state == "parked":
            phase = BEFORE
        elif mine is not None:
            phase = MID
            assert [v.pending for v in shown] == [True]
            self.note_half_done(RETRY, of_message(now, message_id), 1 + len(drafts), mine.in_doubt)
        else:
            phase = AFTER
        self.judged(RETRY, ended, aim, phase)
        if phase == BEFORE:
            assert now == before  # nothing was sent
        elif phase in (AFTER, FINISHED):
            assert_complete(now, message_id, chat_id, text, drafts)  # confirmed: all there already
        sent = phase != BEFORE
        if again:
            retried = self.cli(*args)
            assert retried == {"retried": [] if sent else [op_id], "pending": False}
            sent = True
        if not sent:
            remote = self.sync(1)  # still refused, as the scenario left it
            assert remote == before
            assert self.cli(*args) == {"retried": [op_id], "pending": False}
        remote = self.sync()
        assert_complete(remote, message_id, chat_id, text, drafts)
        assert {k: v for k, v in remote.items() if not of_message({k: v}, message_id)} == before
        assert [content(v) for v in remote.values() if "data" in v].count(text) == 1

    def add_round(self, number: int, chat_id: str, size: int, aim: str | None, again: bool) -> None:
        text = f"answer {number} with {size} passages"
        drafts = drafts_for(f"round {number} added", size)
        path = self.files / f"added-{number}.json"
        path.write_text(json.dumps(drafts), encoding="utf-8")
        args = ("messages", "add", chat_id, text, "--type", "ai", "--sources", str(path))
        before = self.server()
        ended = self.execute(ADD, args, aim)
        with self.local() as library:
            shown = [v for v in library.list_messages(chat_id) if v.message.content == text]
            ops = {op.message_id: op for op in library.status().operations if op.kind == "put_message"}
        now = self.server()
        assert len(shown) <= 1
        ids = {v.message.message_id for v in shown}
        if ended.returncode == 0:
            phase = FINISHED
            printed = ended.document()
            assert printed["pending"] is False and {printed["messageId"]} == ids
        elif not shown:
            phase = BEFORE
        elif shown[0].message.message_id in ops:
            phase = MID
            assert shown[0].pending  # shown as still to be sent, not as done
            op = ops[shown[0].message.message_id]
            self.note_half_done(ADD, of_message(now, shown[0].message.message_id), 1 + size, op.in_doubt)
        else:
            phase = AFTER
        self.judged(ADD, ended, aim, phase)
        if phase == BEFORE:
            assert now == before  # nothing committed, nothing sent
        elif phase in (AFTER, FINISHED):
            assert_complete(now, next(iter(ids)), chat_id, text, drafts)
        expected = len(ids)
        if again:
            printed = self.cli(*args)
            assert printed["pending"] is False and printed["messageId"] not in ids
            ids.add(printed["messageId"])
            expected += 1
        remote = self.sync()
        added = {k: v for k, v in remote.items() if k not in before}
        assert {k: v for k, v in remote.items() if k in before} == before
        answers = {v["messageId"]["S"] for k, v in added.items() if k.startswith("MESSAGE#")}
        assert len(answers) == expected and ids <= answers  # once each: not lost, not doubled
        for message_id in answers:
            assert_complete(remote, message_id, chat_id, text, drafts)
        assert len(added) == expected * (1 + size)

    def delete_round(self, chat_id: str, aim: str | None, again: bool) -> None:
        pairs = self.rng.randint(*self.variant.pairs)
        passages = self.rng.randint(*self.variant.passages)
        batch_put(self.client, web_app_items(chat_id, pairs, passages, self.rng))
        args = ("chats", "delete", chat_id)
        before = self.server()
        kept = {k: v for k, v in before.items() if not of_chat(v, chat_id)}
        assert len(before) - len(kept) > 100  # hundreds of items, many batch requests
        ended = self.execute(DELETE, args, aim)
        with self.local() as library:
            visible = library.get_chat(chat_id) is not None
            ops = [
                op for op in library.status().operations if op.kind == "delete_chat" and op.chat_id == chat_id
            ]
        now = self.server()
        if ended.returncode == 0:
            phase = FINISHED
            printed = ended.document()
            assert printed["chatId"] == chat_id and printed["pending"] is False
        elif ops:
            phase = MID
            assert not visible  # hidden at once, and still to be sent
            left = {k: v for k, v in now.items() if of_chat(v, chat_id)}
            self.half_done.append(f"{DELETE}: {len(left)} of {len(before) - len(kept)} items left")
        elif visible:
            phase = BEFORE
        else:
            phase = AFTER
        self.judged(DELETE, ended, aim, phase)
        if phase == BEFORE:
            assert now == before
        elif phase in (AFTER, FINISHED):
            assert now == kept  # confirmed: all gone already
        deleted = phase != BEFORE
        if again:
            # run again: the chat is gone by then, or deleted now
            self.cli.run(*args, expect=5 if deleted else 0)
            deleted = True
        remote = self.sync()
        if not deleted:
            assert remote == before  # all of it still there, nothing half-deleted
            self.cli(*args)
            remote = self.sync()
        assert remote == kept

    def note_half_done(self, command: str, found: Items, total: int, in_doubt: bool) -> None:
        message = [k for k in found if k.startswith("MESSAGE#")]
        self.half_done.append(
            f"{command}: {len(found) - len(message)} of {total - 1} passages and "
            f"{'the' if message else 'no'} message on the server{' (in doubt)' if in_doubt else ''}"
        )

    def summary(self) -> str:
        landed = ", ".join(f"{c} {p}: {n}" for (c, p), n in sorted(self.landed.items()))
        windows = "; ".join(
            f"{c} {w.commit:.2f}+{w.setup:.2f}+{w.send:.2f}+{w.tail:.2f} s"
            for c, w in sorted(self.windows.items())
        )
        return f"measured {windows}\nkills: {landed}\nseen half done: {self.half_done}"


@pytest.mark.parametrize("server", ["moto-server", "dynalite"])
@pytest.mark.parametrize("variant", [FAST, pytest.param(SLOW, marks=pytest.mark.slow)], ids=["fast", "slow"])
def test_cli_writes_killed_at_random_moments_land_once_or_not_at_all(
    server: str, variant: Variant, request: pytest.FixtureRequest, data_dir: Path, tmp_path: Path
) -> None:
    endpoint = str(request.getfixturevalue("dynalite_endpoint" if server == "dynalite" else "moto_endpoint"))
    run = CrashRun(server, endpoint, data_dir, tmp_path, variant)
    run.round(0, None)
    assert set(run.windows) == set(COMMANDS)
    offsets = {command: run.rng.randrange(len(AIMS)) for command in COMMANDS}
    for number in range(1, variant.rounds + 1):
        if variant.rounds < len(AIMS):
            aims = dict.fromkeys(COMMANDS, MID)  # few kills: where the most can go wrong
        else:
            aims = {c: AIMS[(number + offsets[c]) % len(AIMS)] for c in COMMANDS}
        run.round(number, aims)
    print(f"{server} {variant.name}: {run.summary()}")
    kills = sum(run.landed.values())
    assert kills == len(COMMANDS) * variant.rounds
    assert sum(n for (_, phase), n in run.landed.items() if phase == MID) >= 1  # kills landed mid-write
