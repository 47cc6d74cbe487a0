"""A real process pushing a large queue, killed with SIGKILL at random moments.

After every kill the app starts again, adds more work, and a new pusher carries on;
at the end the server must hold every accepted write exactly once (or show it as
failed, never silently), nothing deleted, nothing doubled, and the mirror must be the
server. Runs over real HTTP on both servers: dynalite has no transactions (an answer is
its sources in batches, then the message: the most steps to be killed between), moto's
server has them (an answer is one TransactWriteItems). moto copies the whole table for
every action of a transaction, so its run keeps the table small.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from servers import create_galileo_table, dynamodb_client
from test_sync_support import TABLE, USER, WebApp, by_key, open_device

from galileio_desktop.data.sync import ChatLibrary

KILLS = 24
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PUSHER = Path(__file__).resolve().parent / "crash_pusher.py"
READY_DEADLINE_S = 60.0


@dataclass
class Expected:
    """What the user did, as the server must end up holding it."""

    titles: dict[str, str] = field(default_factory=dict)
    deleted_chats: set[str] = field(default_factory=set)
    messages: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # id -> chat, text, sources
    deleted_messages: set[str] = field(default_factory=set)


def add_work(library: ChatLibrary, expected: Expected, rng: random.Random, round_no: int, chats: int) -> None:
    """A burst of offline work: new chats with exchanges, renames, deletes."""
    for c in range(chats):
        chat = library.create_chat(f"round {round_no} chat {c}")
        expected.titles[chat.chat_id] = chat.title
        for e in range(3):
            text = f"r{round_no} c{c} question {e}"
            question = library.add_message(chat.chat_id, "human", text)
            expected.messages[question.message_id] = (chat.chat_id, text, 0)
            n = rng.randint(0, 30)
            drafts = [{"pageContent": f"{text} passage {i}", "metadata": {"i": i}} for i in range(n)]
            answer = library.add_message(chat.chat_id, "ai", f"{text} answer", drafts)
            expected.messages[answer.message_id] = (chat.chat_id, f"{text} answer", n)
    live = sorted(set(expected.titles) - expected.deleted_chats)
    for chat_id in rng.sample(live, min(3, len(live))):
        title = f"renamed in round {round_no}"
        library.rename_chat(chat_id, title)
        expected.titles[chat_id] = title
    live = sorted(set(expected.titles) - expected.deleted_chats)
    if len(live) > 4:
        doomed = rng.choice(live)
        library.delete_chat(doomed)
        expected.deleted_chats.add(doomed)
    candidates = sorted(
        m
        for m, (chat_id, _, _) in expected.messages.items()
        if chat_id not in expected.deleted_chats and m not in expected.deleted_messages
    )
    for message_id in rng.sample(candidates, min(2, len(candidates))):
        library.delete_message(expected.messages[message_id][0], message_id)
        expected.deleted_messages.add(message_id)


def start_pusher(mirror: Path, endpoint: str, log: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with open(log, "a") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(PUSHER), str(mirror), endpoint, TABLE, USER],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the pusher is up (or has died)
    if line.strip() != "ready":
        process.kill()
        process.wait(timeout=30)
        raise AssertionError(f"pusher did not start: {line!r}\n{log.read_text()}")
    return process


def pending(mirror: Path) -> int:
    with ChatLibrary(mirror, USER) as library:
        return library.status().pending


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize(
    ("server", "kills", "first_chats", "round_chats"),
    [("dynalite", KILLS, 30, 2), ("moto-server", KILLS // 3, 6, 1)],
    ids=["dynalite", "moto-server"],
)
def test_a_pusher_killed_at_random_moments_loses_and_doubles_nothing(
    server: str,
    kills: int,
    first_chats: int,
    round_chats: int,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    endpoint = str(request.getfixturevalue("dynalite_endpoint" if server == "dynalite" else "moto_endpoint"))
    rng = random.Random(1234)
    client = dynamodb_client(endpoint)
    create_galileo_table(client, TABLE)
    mirror = tmp_path / "mirror.sqlite3"
    expected = Expected()
    with ChatLibrary(mirror, USER) as library:
        add_work(library, expected, rng, 0, chats=first_chats)

    confirmed_before_kills: list[int] = []
    log = tmp_path / "pusher.log"
    for round_no in range(1, kills + 1):
        before = pending(mirror)
        process = start_pusher(mirror, endpoint, log)
        # the random moment of the crash: after a random number of settled operations,
        # then anywhere inside the next ones
        for _ in range(rng.randint(0, 6)):
            if not process.stdout or not process.stdout.readline():
                break
        time.sleep(rng.uniform(0.0, 0.05))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL  # killed, not finished
        if process.stdout:
            process.stdout.close()
        after = pending(mirror)
        assert after > 0
        confirmed_before_kills.append(before - after)
        with ChatLibrary(mirror, USER) as library:  # the app starts again, the user goes on
            add_work(library, expected, rng, round_no, chats=round_chats)

    # the last run is left alone to finish
    process = start_pusher(mirror, endpoint, log)
    process.communicate(timeout=300)
    assert process.returncode == 0, log.read_text()
    with open_device(mirror, dynamodb_client(endpoint)) as library:
        status = library.status()
        in_doubt = [op for op in status.operations if op.state == "parked"]
        # a kill between sending a write and hearing back leaves it in doubt: shown, never guessed
        assert all(op.error_kind == "in_doubt" and op.error for op in in_doubt)
        for op in in_doubt:  # the user presses Retry
            library.retry(op.op_id)
        result = library.sync()
        assert result.pending == 0 and result.parked == 0
        library.pull(reconcile=True)
        check(library, WebApp(client), expected)
    progressed = sum(1 for n in confirmed_before_kills if n > 0)
    print(
        f"{server}: {kills} kills mid-push; {sum(confirmed_before_kills)} operations confirmed by killed pushers "
        f"({progressed} of them got some through); {len(in_doubt)} left in doubt and retried"
    )
    assert progressed >= kills // 2  # the kills did land in the middle of real work


def check(library: ChatLibrary, web: WebApp, expected: Expected) -> None:
    remote = by_key(web.items())
    assert by_key(library.remote_snapshot()) == remote
    chats = {v["chatId"]["S"]: v["title"]["S"] for k, v in remote.items() if k.startswith("CHAT#")}
    live_titles = {c: t for c, t in expected.titles.items() if c not in expected.deleted_chats}
    assert chats == live_titles
    messages: dict[str, Any] = {v["messageId"]["S"]: v for k, v in remote.items() if k.startswith("MESSAGE#")}
    live_messages = {
        m: spec
        for m, spec in expected.messages.items()
        if spec[0] not in expected.deleted_chats and m not in expected.deleted_messages
    }
    assert set(messages) == set(live_messages)
    for message_id, (chat_id, text, _) in live_messages.items():
        assert messages[message_id]["chatId"]["S"] == chat_id
        assert messages[message_id]["data"]["M"]["content"]["S"] == text
    per_message = Counter(v["messageId"]["S"] for k, v in remote.items() if k.startswith("SOURCE#"))
    assert dict(per_message) == {m: n for m, (_, _, n) in live_messages.items() if n}
    texts = Counter(v["data"]["M"]["content"]["S"] for v in messages.values())
    assert max(texts.values()) == 1
