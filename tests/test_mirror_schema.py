"""The mirror file: migrations from every earlier version, permissions, ownership."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from galileio_desktop.data.mirror import (
    SCHEMA_VERSION,
    Mirror,
    MirrorOfAnotherAccount,
    MirrorTooNew,
    migrations,
    mirror_path_for,
)
from galileio_desktop.data.mirror.codec import dumps, encode, key_of_item
from galileio_desktop.data.schema import Chat, Message, make_sources
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that would leave files world-readable: our code must not rely on it."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def raw_connection(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(path, isolation_level=None)


def sample_items() -> tuple[Chat, Message, list[dict]]:
    chat = Chat("chat-1", USER, "Quarterly naïve forecast", 1_000, extra={"webOnly": {"S": "kept"}})
    message = Message("msg-1", chat.chat_id, USER, "ai", "Revenue grows in the café segment", 2_000)
    sources = make_sources(
        USER,
        chat.chat_id,
        message.message_id,
        [{"pageContent": "ledger résumé", "metadata": {"page": 4}}],
        2_000,
    )
    message = message.with_sources(sources)
    items = [chat.to_item(), message.to_item(), *(s.to_item() for s in message.sources)]
    return chat, message, items


def build_old_mirror(path: Path, version: int) -> tuple[Chat, Message]:
    """A mirror as release ``version`` left it: data in that version's tables only."""
    conn = raw_connection(path)
    migrations.migrate(conn, target=version)
    chat, message, items = sample_items()
    conn.execute("INSERT INTO meta(key, value) VALUES ('user_id', ?)", (USER,))
    for item in items:
        key = key_of_item(item)
        conn.execute(
            "INSERT INTO item(sk, kind, chat_id, message_id, created_at, remote, seen) VALUES (?, ?, ?, ?, ?, ?, 1)",
            (key.sk, key.kind, key.chat_id, key.message_id, key.created_at, dumps(item)),
        )
    # a message written offline, still queued, visible through the overlay
    queued = Message("msg-2", chat.chat_id, USER, "human", "pending question", 3_000)
    payload = {
        "item": encode(queued.to_item()),
        "sources": [],
        "chat": {"title": chat.title, "createdAt": 1_000},
    }
    conn.execute(
        "INSERT INTO outbox(kind, chat_id, message_id, payload, created) VALUES ('put_message', ?, ?, ?, 3000)",
        (chat.chat_id, queued.message_id, json.dumps(payload)),
    )
    conn.execute(
        "INSERT INTO item(sk, kind, chat_id, message_id, created_at, local) VALUES (?, 'MESSAGE', ?, ?, 3000, ?)",
        ("MESSAGE#msg-2", chat.chat_id, "msg-2", dumps(queued.to_item())),
    )
    if version >= 2:
        conn.execute(
            "INSERT INTO chat_sync(chat_id, opened_at, last_seen, cached) VALUES (?, 123, 2000, 1)",
            (chat.chat_id,),
        )
    if version >= 4:  # that release had fetched the answer's sources
        conn.execute("INSERT INTO known_sources(message_id) VALUES (?)", (message.message_id,))
    assert migrations.user_version(conn) == version
    conn.close()
    return chat, message


@pytest.mark.parametrize("version", range(0, SCHEMA_VERSION))
def test_every_earlier_version_migrates_with_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / "mirror.sqlite3"
    if version == 0:
        raw_connection(path).close()  # an empty file, as a crashed first start leaves it
        library = ChatLibrary(path, USER)
        assert library.list_chats() == []
        library.close()
        assert migrations.user_version(raw_connection(path)) == SCHEMA_VERSION
        return
    chat, message = build_old_mirror(path, version)
    library = ChatLibrary(path, USER)
    try:
        [view] = library.list_chats()
        assert view.chat.title == chat.title and view.chat.extra == {"webOnly": {"S": "kept"}}
        assert view.pending and view.unsent == 1
        texts = [v.message.content for v in library.list_messages(chat.chat_id)]
        assert texts == [message.content, "pending question"]
        [source] = library.list_sources(message.message_id)
        assert source.page_content == "ledger résumé" and source.metadata == {"page": 4}
        # the full-text index (version 3) covers what older versions stored
        assert {h.kind for h in library.search("naive")} == {"CHAT"}
        assert [h.message_id for h in library.search("cafe")] == [message.message_id]
        assert [h.kind for h in library.search("resume")] == ["SOURCE"]
        assert [h.message_id for h in library.search("pending")] == ["msg-2"]
        assert library.status().pending == 1
    finally:
        library.close()
    conn = raw_connection(path)
    assert migrations.user_version(conn) == SCHEMA_VERSION
    row = conn.execute(
        "SELECT opened_at, last_seen, cached FROM chat_sync WHERE chat_id = ?", (chat.chat_id,)
    ).fetchone()
    # version 1 pulled whole partitions: its chats are backfilled as fully cached
    assert row == ((123, 2000, 1) if version >= 2 else (0, 2000, 1))
    # version 4: the answers of fully cached chats had their sources fetched; the
    # message still queued is not on the server, so nothing of it is known
    assert conn.execute("SELECT message_id FROM known_sources").fetchall() == [(message.message_id,)]
    # version 5: each chat's last activity, here the queued message's
    assert conn.execute("SELECT chat_id, activity FROM chat_activity").fetchall() == [(chat.chat_id, 3_000)]
    conn.close()


def test_a_chat_hidden_by_a_delete_before_version_7_comes_back_searchable(tmp_path: Path) -> None:
    """Version 7 takes hidden rows out of the full-text index (they held empty entries):
    a chat whose delete was queued when the file was written stays unsearchable, comes
    back whole on Undo, and the index matches its content throughout."""
    path = tmp_path / "mirror.sqlite3"
    chat, message = build_old_mirror(path, 6)
    conn = raw_connection(path)
    conn.execute(
        "INSERT INTO outbox(kind, chat_id, payload, created) VALUES ('delete_chat', ?, '{}', 4000)",
        (chat.chat_id,),
    )
    conn.execute("UPDATE item SET hidden = 1, local = NULL WHERE chat_id = ?", (chat.chat_id,))
    conn.close()

    def index_is_exact() -> bool:
        check = raw_connection(path)
        try:
            check.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError:
            return False
        finally:
            check.close()
        return True

    library = ChatLibrary(path, USER)
    try:
        assert library.list_chats() == [] and library.search("cafe") == []
        assert index_is_exact()
        [delete] = [op for op in library.status().operations if op.kind == "delete_chat"]
        assert library.cancel(delete.op_id) is True
        assert [h.message_id for h in library.search("cafe")] == [message.message_id]
        assert [h.kind for h in library.search("resume")] == ["SOURCE"]
        assert [h.message_id for h in library.search("pending")] == ["msg-2"]
        assert [v.chat.chat_id for v in library.list_chats()] == [chat.chat_id]
    finally:
        library.close()
    assert index_is_exact()


def hide_chat_as_version_6_did(path: Path, chat_id: str) -> None:
    """A chat delete queued by a release of version 6: every row of the chat hidden."""
    conn = raw_connection(path)
    conn.execute(
        "INSERT INTO outbox(kind, chat_id, payload, created) VALUES ('delete_chat', ?, '{}', 4000)",
        (chat_id,),
    )
    conn.execute("UPDATE item SET hidden = 1, local = NULL WHERE chat_id = ?", (chat_id,))
    conn.close()


def index_entries(path: Path) -> tuple[int, int]:
    """(rows with a full-text entry, item rows), after FTS5's own check of the index."""
    conn = raw_connection(path)
    try:
        conn.execute("INSERT INTO search_index(search_index, rank) VALUES ('integrity-check', 1)")
        entries = conn.execute("SELECT count(*) FROM search_index_docsize").fetchone()[0]
        return entries, conn.execute("SELECT count(*) FROM item").fetchone()[0]
    finally:
        conn.close()


def test_a_process_killed_inside_the_version_7_step_leaves_version_6_whole(tmp_path: Path) -> None:
    """The step runs to its end, then the process dies before COMMIT (a crash, a power
    cut): the file reopens at version 6 with its v6 index (an entry for every row,
    hidden ones too) and triggers, and the next opening migrates it as if nothing had
    happened."""
    path = tmp_path / "mirror.sqlite3"
    chat, message = build_old_mirror(path, 6)
    hide_chat_as_version_6_did(path, chat.chat_id)
    assert index_entries(path) == (4, 4)
    schema = "SELECT type, name, sql FROM sqlite_master ORDER BY name"
    conn = raw_connection(path)
    before = conn.execute(schema).fetchall()
    conn.close()
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from galileio_desktop.data.mirror import Mirror, migrations\n"
        "step = migrations.MIGRATIONS[6]\n"
        "def dies(conn):\n"
        "    step(conn)\n"
        "    os._exit(3)\n"
        "migrations.MIGRATIONS[6] = dies\n"
        "Mirror(Path(sys.argv[1]), 'user-a')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, timeout=60)
    assert done.returncode == 3, done.stderr
    conn = raw_connection(path)
    assert migrations.user_version(conn) == 6
    assert conn.execute(schema).fetchall() == before  # the v6 view and triggers, untouched
    conn.close()
    assert index_entries(path) == (4, 4)

    library = ChatLibrary(path, USER)
    try:
        assert library.list_chats() == [] and library.search("cafe") == []
        assert index_entries(path) == (0, 4)  # version 7: hidden rows hold no entry
        [delete] = [op for op in library.status().operations if op.kind == "delete_chat"]
        assert library.cancel(delete.op_id) is True
        assert [h.message_id for h in library.search("cafe")] == [message.message_id]
        assert [h.message_id for h in library.search("pending")] == ["msg-2"]
        assert index_entries(path) == (4, 4)
    finally:
        library.close()
    assert migrations.user_version(raw_connection(path)) == SCHEMA_VERSION


def index_pages(path: Path) -> list[tuple[int, bytes]]:
    """The full-text index's stored pages: any entry added or removed changes them."""
    conn = raw_connection(path)
    try:
        return conn.execute("SELECT id, block FROM search_index_data ORDER BY id").fetchall()
    finally:
        conn.close()


def test_a_chat_delete_queued_by_version_7_upgrades_and_is_queued_again_without_reindexing(
    tmp_path: Path,
) -> None:
    """Version 7 hid every row of a chat whose delete was queued, their entries removed:
    version 8 keeps that as it is (hidden, no entry), Undo brings the chat back
    searchable, and a delete queued again keeps the entries of its rows; the search
    leaves the chat out all the same, and a change that leaves a row's text as it was (a
    pin) touches no entry either."""
    path = tmp_path / "mirror.sqlite3"
    chat, message = build_old_mirror(path, 7)
    hide_chat_as_version_6_did(path, chat.chat_id)
    assert index_entries(path) == (0, 4)

    library = ChatLibrary(path, USER)
    try:
        assert library.list_chats() == [] and library.search("cafe") == []
        assert index_entries(path) == (0, 4)
        [delete] = [op for op in library.status().operations if op.kind == "delete_chat"]
        assert library.cancel(delete.op_id) is True
        assert [h.message_id for h in library.search("cafe")] == [message.message_id]
        assert [h.kind for h in library.search("resume")] == ["SOURCE"]
        assert index_entries(path) == (4, 4)
        pages = index_pages(path)
        library.pin_chat(chat.chat_id, True)
        assert index_pages(path) == pages
        library.delete_chat(chat.chat_id, not_before_ms=2**62)
        assert library.search("cafe") == [] and library.search("resume") == []
        assert library.search("naive") == [] and library.list_chats() == []
        # the confirmed rows keep their entries; the unsent message's row went, as ever
        assert index_entries(path) == (3, 3)
        conn = raw_connection(path)
        query = "SELECT COUNT(*) FROM search_index WHERE search_index MATCH ?"
        counts = [conn.execute(query, (word,)).fetchone()[0] for word in ("cafe", "resume", "naive")]
        assert counts == [1, 1, 1]
        conn.close()
    finally:
        library.close()


def test_a_failed_step_leaves_the_file_at_its_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mirror.sqlite3"
    build_old_mirror(path, 1)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk full")

    monkeypatch.setattr(
        migrations, "MIGRATIONS", [migrations.MIGRATIONS[0], broken, *migrations.MIGRATIONS[2:]]
    )
    with pytest.raises(RuntimeError, match="disk full"):
        Mirror(path, USER)
    conn = raw_connection(path)
    assert migrations.user_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchone() is None
    conn.close()


def test_a_mirror_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    conn = raw_connection(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(MirrorTooNew, match="newer version"):
        ChatLibrary(path, USER)


def test_files_are_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    path = mirror_path_for(tmp_path / "data", USER, "galileo", "http://127.0.0.1:8000")
    library = ChatLibrary(path, USER)
    try:
        chat = library.create_chat("secret plans")
        library.add_message(chat.chat_id, "human", "still secret")
        assert mode(path.parent) == 0o700
        assert mode(path) == 0o600
        wal = path.with_name(path.name + "-wal")
        shm = path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()  # WAL mode, with the file open
        assert mode(wal) == 0o600 and mode(shm) == 0o600
    finally:
        library.close()
    journal = raw_connection(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_a_mirror_of_another_account_is_never_opened(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    ChatLibrary(path, USER).close()
    with pytest.raises(MirrorOfAnotherAccount):
        ChatLibrary(path, "user-b")


def test_mirror_path_is_one_per_account_and_hides_the_user(tmp_path: Path) -> None:
    base = mirror_path_for(tmp_path, USER, "galileo", None)
    assert base == mirror_path_for(tmp_path, USER, "galileo", None)
    others = {
        mirror_path_for(tmp_path, "user-b", "galileo", None),
        mirror_path_for(tmp_path, USER, "galileo-2", None),
        mirror_path_for(tmp_path, USER, "galileo", "http://127.0.0.1:8000"),
        mirror_path_for(tmp_path, USER, "galileo", None, region="eu-west-1"),
    }
    assert base not in others and len(others) == 4
    assert USER not in str(base) and base.parent.parent == tmp_path


def test_a_step_another_connection_applied_meanwhile_is_skipped(tmp_path: Path) -> None:
    """Two openers of one new file: the second read version 0, then waited for the write
    lock while the first migrated; it must not run the steps again."""
    path = tmp_path / "mirror.sqlite3"
    first = raw_connection(path)
    first.execute("PRAGMA journal_mode = WAL")
    first.execute("BEGIN IMMEDIATE")  # the first opener is migrating: it holds the write lock
    for step in migrations.MIGRATIONS:
        step(first)
    first.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    second = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    waiting = threading.Event()
    second.set_trace_callback(lambda sql: waiting.set() if sql == "BEGIN IMMEDIATE" else None)
    outcome: list[BaseException | int] = []

    def open_second() -> None:
        try:
            outcome.append(migrations.migrate(second))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            outcome.append(exc)

    opener = threading.Thread(target=open_second)
    opener.start()
    assert waiting.wait(30)  # it read the old version and now waits for the lock
    first.execute("COMMIT")
    opener.join(30)
    assert outcome == [0], outcome
    assert migrations.user_version(second) == SCHEMA_VERSION
    first.close()
    second.close()


def open_at_once(path: Path, openers: int) -> tuple[list[Mirror], list[BaseException]]:
    """``openers`` threads open ``path`` as Mirror objects, all released at the same moment."""
    start = threading.Barrier(openers)
    opened: list[Mirror] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait(10)
        try:
            opened.append(Mirror(path, USER))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return opened, errors


def test_many_openers_of_one_new_mirror_at_once_all_succeed(tmp_path: Path) -> None:
    for round_ in range(10):
        path = tmp_path / f"mirror-{round_}.sqlite3"
        opened, errors = open_at_once(path, 3)
        assert errors == [] and len(opened) == 3
        for mirror in opened:
            mirror.close()
        conn = raw_connection(path)
        assert migrations.user_version(conn) == SCHEMA_VERSION
        assert conn.execute("SELECT value FROM meta WHERE key = 'user_id'").fetchall() == [(USER,)]
        conn.close()


def test_two_processes_open_one_new_mirror_at_once(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from galileio_desktop.data.mirror import Mirror\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"  # both open at the same moment, once both are ready
        "Mirror(Path(sys.argv[1]), 'user-a').close()\n"
    )
    for round_ in range(3):
        path = tmp_path / f"mirror-{round_}.sqlite3"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [(proc.wait(60), proc.stderr.read() if proc.stderr else "") for proc in procs]
        for proc in procs:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
        assert [code for code, _ in results] == [0, 0], results
        assert migrations.user_version(raw_connection(path)) == SCHEMA_VERSION
