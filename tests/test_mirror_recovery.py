"""A damaged mirror is set aside, its unsent changes kept, and the next sync rebuilds it.

Real files damaged the ways disks and copies damage them (bytes overwritten, a file cut
short), real SQLite, real CLI processes against moto's server over HTTP.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from local_disks import fill, tmpfs
from servers import create_galileo_table, dynamodb_client

from galileio_desktop.data.errors import LocalStorageError
from galileio_desktop.data.mirror import recovery
from galileio_desktop.data.mirror.recovery import MirrorDamaged
from galileio_desktop.data.schema import Chat, Message
from galileio_desktop.data.sync import ChatLibrary

USER = "user-a"
TABLE = "galileo-recovery"
CLI_USER = "recovery-user"


# -- ways to damage a mirror file ----------------------------------------------------------------


def page_size_and_root(path: Path, table: str) -> tuple[int, int]:
    conn = sqlite3.connect(path)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    finally:
        conn.close()
    return int(size), int(root)


def overwrite_everything(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * (path.stat().st_size // 256 + 1))


def truncate_to_half(path: Path) -> None:
    """Cut the file to half its length, as an interrupted copy does. The schema and the
    outbox were written first, so they lie in the first half (checked)."""
    conn = sqlite3.connect(path)
    try:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        kept = conn.execute(
            "SELECT max(pageno) FROM dbstat WHERE name IN ('sqlite_schema', 'sqlite_master', 'outbox')"
        ).fetchone()[0]
    finally:
        conn.close()
    assert kept <= pages // 2 < pages, "the test's premise: the mirror must be larger"
    with open(path, "r+b") as handle:
        handle.truncate(pages // 2 * size)


def overwrite_the_items(path: Path) -> None:
    """Garble the page of the item table (the outbox and the header stay readable), so the
    damage shows only when the chats are read, not when the file is opened."""
    size, root = page_size_and_root(path, "item")
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * size)
        handle.write(b"\xa5" * size)


def queue_some_changes(path: Path, archive: int = 0) -> tuple[str, list[tuple[int, str]]]:
    """A chat with a question, an answer with sources and a rename, none of it sent; with
    ``archive``, first a synced chat of that many messages (a mirror of some size)."""
    with ChatLibrary(path, USER) as lib:
        if archive:
            lib.store_remote_items(archive_items(archive))
        chat = lib.create_chat("Trip")
        lib.add_message(chat.chat_id, "human", "Where to?")
        lib.add_message(chat.chat_id, "ai", "Lisbon", [{"pageContent": "guide", "metadata": {"p": 1}}])
        lib.rename_chat(chat.chat_id, "Trip 2026")
        ops = [(op.op_id, op.kind) for op in lib.status().operations]
    return chat.chat_id, ops


def archive_items(count: int, user: str = USER, chat_id: str = "archive") -> list[dict[str, Any]]:
    chat = Chat(chat_id, user, "Archive", 1_000).to_item()
    text = "an old answer that fills the mirror " * 20
    return [
        chat,
        *(Message(f"old-{i:04d}", chat_id, user, "ai", text, 2_000 + i).to_item() for i in range(count)),
    ]


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- the library ------------------------------------------------------------------------------


def test_an_overwritten_mirror_is_moved_aside_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    queue_some_changes(path)
    overwrite_everything(path)
    damaged = path.read_bytes()
    with ChatLibrary(path, USER) as lib:
        found = lib.recovery
        assert found is not None and found.kept == 0 and not found.complete
        assert found.reason == "file is not a database"
        assert found.moved_to.parent == tmp_path and found.moved_to.name.startswith("mirror.sqlite3.corrupt-")
        assert found.moved_to.read_bytes() == damaged  # kept as it was, for a rescue by hand
        assert found.message == (
            f"The local copy was damaged; it was moved aside to {found.moved_to} and will be rebuilt "
            "from DynamoDB at the next sync; its queued changes could not be read."
        )
        assert lib.list_chats() == [] and lib.status().pending == 0
        lib.create_chat("After")  # the fresh mirror works
    with ChatLibrary(path, USER) as lib:
        assert lib.recovery is None
        assert [v.chat.title for v in lib.list_chats()] == ["After"]
    assert not recovery.marker_path(path).exists()


def test_a_crashed_writer_s_side_files_go_aside_with_the_damaged_file(tmp_path: Path) -> None:
    """A -wal left by a writer that died must never be replayed onto the fresh file."""
    path = tmp_path / "mirror.sqlite3"
    queue_some_changes(path)
    writer = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA wal_autocheckpoint = 0')\n"
        "for i in range(50):\n"
        "    conn.execute('INSERT INTO meta(key, value) VALUES (?, ?)', (f'k{i}', 'v' * 1000))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True, timeout=60)
    assert Path(f"{path}-wal").stat().st_size > 50_000 and Path(f"{path}-shm").exists()
    overwrite_everything(path)
    with ChatLibrary(path, USER) as lib:
        found = lib.recovery
        assert found is not None
        assert Path(f"{found.moved_to}-wal").exists() and Path(f"{found.moved_to}-shm").exists()
        assert lib.list_chats() == []
        with lib._mirror.read() as conn:
            assert conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'k%'").fetchone()[0] == 0


def test_a_truncated_mirror_keeps_its_queued_changes(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    chat_id, ops = queue_some_changes(path, archive=300)
    truncate_to_half(path)
    with ChatLibrary(path, USER) as lib:
        found = lib.recovery
        assert found is not None and found.kept == 4 and found.complete
        assert found.reason == "database disk image is malformed"
        assert found.message.endswith("; 4 queued change(s) were kept.")
        # The same operations, in the same order, and the user sees them at once.
        assert [(op.op_id, op.kind) for op in lib.status().operations] == ops
        [view] = lib.list_chats()  # the archive comes back with the next sync
        assert view.chat.chat_id == chat_id and view.chat.title == "Trip 2026" and view.pending
        messages = lib.list_messages(chat_id)
        assert [(m.message.content, m.pending) for m in messages] == [("Where to?", True), ("Lisbon", True)]
        assert [s.page_content for s in lib.list_sources(messages[1].message.message_id)] == ["guide"]


def test_damage_found_after_opening_is_repaired_at_the_next_opening(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    _, ops = queue_some_changes(path)
    overwrite_the_items(path)
    with ChatLibrary(path, USER) as lib:
        assert lib.recovery is None  # the damaged page was not read yet
        with pytest.raises(MirrorDamaged) as caught:
            lib.list_chats()
        assert isinstance(caught.value, LocalStorageError) and caught.value.exit_code == 1
        assert str(path) in caught.value.message and "malformed" in caught.value.message
        assert "moved aside and rebuilt from DynamoDB the next time it is opened" in caught.value.message
        assert recovery.marker_path(path).exists()
    with ChatLibrary(path, USER) as lib:
        found = lib.recovery
        assert found is not None and found.kept == len(ops) and found.complete
        assert [(op.op_id, op.kind) for op in lib.status().operations] == ops
        assert [v.chat.title for v in lib.list_chats()] == ["Trip 2026"]
    assert not recovery.marker_path(path).exists()


def test_a_damaged_mirror_still_open_in_this_process_is_left_in_place(tmp_path: Path) -> None:
    """The window opens one library per worker thread: the second must not move the file
    from under the first (the first would go on writing into the moved file)."""
    path = tmp_path / "mirror.sqlite3"
    queue_some_changes(path)
    overwrite_the_items(path)
    first = ChatLibrary(path, USER)
    try:
        with pytest.raises(MirrorDamaged):
            first.list_chats()
        with pytest.raises(MirrorDamaged, match="moved aside"):
            ChatLibrary(path, USER)
        assert not list(tmp_path.glob("*.corrupt-*"))
    finally:
        first.close()
    with ChatLibrary(path, USER) as lib:
        assert lib.recovery is not None and lib.recovery.kept == 4


def test_a_damaged_mirror_open_in_another_process_is_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    queue_some_changes(path)
    overwrite_the_items(path)
    recovery.mark_damaged(path, "database disk image is malformed")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "conn = sqlite3.connect(sys.argv[1])\n"
            "conn.execute('SELECT value FROM meta').fetchall()\n"
            "print('ready', flush=True)\n"
            "sys.stdin.readline()\n",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        with pytest.raises(MirrorDamaged, match="still open in another Galileio Desktop window"):
            ChatLibrary(path, USER)
        assert not list(tmp_path.glob("*.corrupt-*")) and recovery.marker_path(path).exists()
    finally:
        holder.communicate("\n", timeout=30)  # lets it end; closes its pipes
    with ChatLibrary(path, USER) as lib:
        assert lib.recovery is not None and lib.recovery.kept == 4


def test_unusable_rows_are_left_out_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "mirror.sqlite3"
    queue_some_changes(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE outbox SET payload = '{not json' WHERE kind = 'rename_chat'")
    conn.execute("UPDATE outbox SET kind = 'launch_rocket' WHERE op_id = 1")
    conn.commit()
    conn.close()
    overwrite_the_items(path)
    recovery.mark_damaged(path, "database disk image is malformed")
    with ChatLibrary(path, USER) as lib:
        found = lib.recovery
        assert found is not None and found.kept == 2 and not found.complete
        assert found.message.endswith("; 2 queued change(s) were kept, others could not be read.")
        assert [op.kind for op in lib.status().operations] == ["put_message", "put_message"]


def test_a_damaged_mirror_on_a_full_disk_is_kept_until_it_can_be_replaced(tmp_path: Path) -> None:
    """Setting a file aside needs no room, making a fresh one does: when that fails, the
    damaged file (which still holds the queued changes) goes back for another try."""
    with tmpfs(tmp_path / "disk") as disk:
        path = disk / "mirrors" / "mirror.sqlite3"
        _, ops = queue_some_changes(path)
        overwrite_the_items(path)
        recovery.mark_damaged(path, "database disk image is malformed")
        damaged = path.read_bytes()
        filler = fill(disk)
        with pytest.raises(LocalStorageError, match=f"The disk holding {path.parent}"):
            ChatLibrary(path, USER)
        assert path.read_bytes() == damaged and recovery.marker_path(path).exists()
        assert not list(path.parent.glob("*.corrupt-*"))
        filler.unlink()
        with ChatLibrary(path, USER) as lib:
            assert lib.recovery is not None and lib.recovery.kept == len(ops)
            assert [(op.op_id, op.kind) for op in lib.status().operations] == ops


# -- the CLI, against a real server -------------------------------------------------------------


def galileio(endpoint: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GALILEIO_TABLE": TABLE,
        "GALILEIO_USER_ID": CLI_USER,
        "GALILEIO_DATA_DIR": str(data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", "--endpoint-url", endpoint, "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    create_galileo_table(dynamodb_client(moto_endpoint), TABLE)
    return moto_endpoint


def put_archive(endpoint: str, count: int) -> None:
    client = dynamodb_client(endpoint)
    items = archive_items(count, CLI_USER)
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        client.batch_write_item(RequestItems={TABLE: batch})


def server_messages(endpoint: str) -> list[str]:
    """The texts of the user's messages on the server, the archive's left out."""
    client = dynamodb_client(endpoint)
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :m)",
        "ExpressionAttributeValues": {":pk": {"S": CLI_USER}, ":m": {"S": "MESSAGE#"}},
        "ConsistentRead": True,
    }
    texts = []
    while True:
        page = client.query(**kwargs)
        texts += [i["data"]["M"]["content"]["S"] for i in page["Items"] if i["chatId"]["S"] != "archive"]
        if "LastEvaluatedKey" not in page:
            return sorted(texts)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("damage", "kept"),
    [(overwrite_the_items, True), (truncate_to_half, True), (overwrite_everything, False)],
    ids=["items-overwritten", "truncated", "all-bytes-overwritten"],
)
def test_one_sync_rebuilds_a_damaged_mirror_and_sends_its_queued_change_once(
    endpoint: str, data_dir: Path, damage: Any, kept: bool
) -> None:
    trip = ok(galileio(endpoint, data_dir, "chats", "create", "Trip"))["chatId"]
    budget = ok(galileio(endpoint, data_dir, "chats", "create", "Budget"))["chatId"]
    ok(galileio(endpoint, data_dir, "messages", "add", trip, "Where to?"))
    put_archive(endpoint, 300)  # written by the web app meanwhile: a mirror of some size
    ok(galileio(endpoint, data_dir, "sync"))
    ok(galileio(endpoint, data_dir, "--offline", "messages", "add", budget, "queued while offline"))
    [mirror] = (data_dir / "data" / "mirrors").glob("*.sqlite3")
    damage(mirror)

    # The first command meets the damage: no traceback, one line that says what happened.
    first = galileio(endpoint, data_dir, "--offline", "chats", "list")
    assert "Traceback" not in first.stderr
    [line] = first.stderr.splitlines()
    if first.returncode == 0:  # found while opening: replaced at once
        assert line.startswith("The local copy was damaged; it was moved aside to ")
        assert ("1 queued change(s) were kept." if kept else "queued changes could not be read") in line
    else:  # found while reading: replaced at the next opening
        assert first.returncode == 1 and first.stdout == ""
        assert line.startswith(f"galileio-desktop: The local copy {mirror} is damaged")

    # One sync brings everything back from the server, and sends the kept change.
    synced = galileio(endpoint, data_dir, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "Traceback" not in synced.stderr and len(synced.stderr.splitlines()) <= 1
    chats = ok(galileio(endpoint, data_dir, "--offline", "chats", "list"))
    assert sorted(c["title"] for c in chats) == ["Archive", "Budget", "Trip"]
    texts = [m["text"] for m in ok(galileio(endpoint, data_dir, "--offline", "messages", "list", trip))]
    assert texts == ["Where to?"]
    expected = ["Where to?", "queued while offline"] if kept else ["Where to?"]
    assert server_messages(endpoint) == expected
    assert ok(galileio(endpoint, data_dir, "status"))["pending"] == 0
    ok(galileio(endpoint, data_dir, "sync"))
    assert server_messages(endpoint) == expected  # exactly once
    aside = [
        p for p in mirror.parent.glob(f"{mirror.name}.corrupt-*") if not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(aside) == 1
