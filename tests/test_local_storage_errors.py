"""A failing local disk: one clear line naming the folder, nothing half-written, reads still work.

Real disks where the test is about the disk: a tmpfs of a few megabytes filled to the
last byte, a file system remounted read-only (see ``local_disks.py``); real CLI
processes. The rollback itself is also held where no file system can be mounted, with
SQLite's own page limit standing in for the disk.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_disks import fill, remount_read_only, tmpfs
from test_mirror_schema import USER as USER_A
from test_mirror_schema import build_old_mirror, hide_chat_as_version_6_did, index_entries

from galileio_desktop.data.errors import LocalStorageError
from galileio_desktop.data.mirror import Mirror, migrations
from galileio_desktop.data.paths import AppPaths, FolderUnusable, private_dir, private_file
from galileio_desktop.data.sync import ChatLibrary

TABLE = "galileo-disk"
USER = "disk-user"
BIG = "x" * 300_000  # far more than the room left, far less than DynamoDB's item limit


def galileio(
    data_dir: Path | None, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "GALILEIO_TABLE": TABLE, "GALILEIO_USER_ID": USER}
    prefix = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.run(
        [sys.executable, "-m", "galileio_desktop", *prefix, "--json", "--offline", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env if env is not None else base,
        timeout=120,
        check=False,
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("galileio-desktop: "), stderr
    return lines[0]


def ok(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def mirror_file(root: Path) -> Path:
    [found] = (root / "data" / "mirrors").glob("*.sqlite3")
    return found


def queued_kinds(root: Path) -> list[str]:
    status = ok(galileio(root, "status"))
    assert isinstance(status, dict)
    return [op["kind"] for op in status["operations"]]


def message_texts(root: Path, chat_id: str) -> list[str]:
    listed = ok(galileio(root, "messages", "list", chat_id))
    assert isinstance(listed, list)
    return [m["text"] for m in listed]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk") as mount_point:
        yield mount_point


# -- a full disk ------------------------------------------------------------------------------


@pytest.mark.parametrize("held", [False, True], ids=["mirror-closed", "mirror-open-elsewhere"])
def test_a_full_disk_rolls_the_change_back_says_so_and_status_still_answers(
    tiny_disk: Path, held: bool
) -> None:
    root = tiny_disk / "galileio"
    chat = ok(galileio(root, "chats", "create", "Notes"))
    assert isinstance(chat, dict)
    chat_id = chat["chatId"]
    ok(galileio(root, "messages", "add", chat_id, "first"))
    mirror = mirror_file(root)
    # "open elsewhere": a window holds the mirror, so the command opens it normally and its
    # write fails inside the transaction; "closed": even opening it needs room on the disk.
    holder = sqlite3.connect(mirror) if held else None
    if holder is not None:
        holder.execute("SELECT count(*) FROM outbox").fetchone()
    try:
        filler = fill(tiny_disk)
        result = galileio(root, "messages", "add", chat_id, "-", stdin=BIG)
        assert result.returncode == 1
        line = one_line(result.stderr)
        assert f"The disk holding {mirror.parent} is full: the change was not saved." in line
        assert "Free some space" in line and result.stdout == ""

        # status still answers, from what is on disk; nothing of the change is there
        assert queued_kinds(root) == ["create_chat", "put_message"]
        assert message_texts(root, chat_id) == ["first"]
        # with room again: the file holds nothing of the refused change, and it can be made
        filler.unlink()
        check = sqlite3.connect(f"{mirror.as_uri()}?mode=ro", uri=True)
        try:
            assert check.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2
            assert check.execute("SELECT count(*) FROM item WHERE kind = 'MESSAGE'").fetchone()[0] == 1
            assert check.execute("SELECT count(*) FROM item WHERE local LIKE '%xxxxxxxx%'").fetchone()[0] == 0
        finally:
            check.close()

        ok(galileio(root, "messages", "add", chat_id, "-", stdin=BIG))
        assert queued_kinds(root) == ["create_chat", "put_message", "put_message"]
        assert [len(t) for t in message_texts(root, chat_id)] == [5, len(BIG)]
    finally:
        if holder is not None:
            holder.close()


def test_a_full_database_rolls_back_the_whole_change(tmp_path: Path) -> None:
    """The same rollback without a mountable disk: SQLite's page limit makes the write fail
    with "database or disk is full" halfway through an answer and its sources."""
    path = tmp_path / "mirrors" / "m.sqlite3"
    with ChatLibrary(path, USER) as lib:
        chat = lib.create_chat("Notes")
        lib.add_message(chat.chat_id, "human", "first")
        conn = lib._mirror.conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 3}")
        sources = [{"pageContent": f"passage {i} " * 200, "metadata": {}} for i in range(40)]
        with pytest.raises(LocalStorageError, match=re.escape(f"The disk holding {path.parent} is full")):
            lib.add_message(chat.chat_id, "ai", "answer", sources)
        assert [v.message.content for v in lib.list_messages(chat.chat_id)] == ["first"]
        assert [op.kind for op in lib.status().operations] == ["create_chat", "put_message"]
        assert conn.execute("SELECT count(*) FROM item WHERE kind = 'SOURCE'").fetchone()[0] == 0
        assert lib.search("passage") == []
        conn.execute("PRAGMA max_page_count = 1073741823")
        answer = lib.add_message(chat.chat_id, "ai", "answer", sources)
        assert len(lib.list_sources(answer.message_id)) == 40


def test_a_full_disk_during_a_schema_step_keeps_the_old_version_whole(
    tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mirror of schema 6 with a chat hidden by a queued delete, opened on a disk with
    4 KB more room at each try: until the step to 7 fits, every opening is refused with
    the words for a full disk (SQLite rolls the step back by itself; rolling it back
    again must not hide why), and the file stays at 6 with its index whole (or at 7,
    whole, when only a later step did not fit); then it migrates, the chat still hidden."""
    path = tiny_disk / "mirrors" / "m.sqlite3"
    chat, _ = build_old_mirror(path, 6)
    hide_chat_as_version_6_did(path, chat.chat_id)
    step = migrations.MIGRATIONS[6]
    entered: list[int] = []

    def recorded(conn: sqlite3.Connection) -> None:
        entered.append(1)
        step(conn)

    monkeypatch.setattr(
        migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:6], recorded, *migrations.MIGRATIONS[7:]]
    )
    refused_in_step = 0
    for room in range(0, 256 * 1024, 4096):
        filler = fill(tiny_disk)
        os.truncate(filler, filler.stat().st_size - room)
        tries = len(entered)
        try:
            Mirror(path, USER_A).close()
        except LocalStorageError as exc:
            assert f"The disk holding {path.parent} is full" in str(exc)
            refused_in_step += len(entered) > tries
        else:
            break
        finally:
            filler.unlink()
        conn = sqlite3.connect(path)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
        # each step whole: 6 with its index, or 7 (the step to 8 did not fit) with its own
        assert (version, index_entries(path)) in ((6, (4, 4)), (7, (0, 4)))
    assert refused_in_step > 0  # the disk filled inside the step at least once
    with ChatLibrary(path, USER_A) as lib:
        assert lib.list_chats() == [] and lib.search("cafe") == []
    assert index_entries(path) == (0, 4)


# -- a read-only data folder -------------------------------------------------------------------


def read_only_folder(folder: Path) -> None:
    """Make ``folder`` unwritable for this process: a read-only remount as root (root
    writes through permission bits), permissions otherwise."""
    if os.geteuid() == 0:
        remount_read_only(folder)
    else:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(0o500)


def test_a_read_only_data_folder_names_itself(tiny_disk: Path) -> None:
    read_only_folder(tiny_disk)
    root = tiny_disk / "galileio"
    result = galileio(root, "chats", "create", "Notes")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert re.search(
        rf"Cannot write to {re.escape(str(tiny_disk))}\S*: (it is on a read-only file system|permission denied)",
        line,
    ), line
    assert not root.exists()


def test_a_mirror_in_a_folder_made_read_only_is_still_read(tiny_disk: Path) -> None:
    root = tiny_disk / "galileio"
    chat = ok(galileio(root, "chats", "create", "Notes"))
    assert isinstance(chat, dict)
    mirror = mirror_file(root)
    read_only_folder(tiny_disk)
    assert queued_kinds(root) == ["create_chat"]
    listed = ok(galileio(root, "chats", "list"))
    assert isinstance(listed, list) and [c["title"] for c in listed] == ["Notes"]
    result = galileio(root, "chats", "rename", chat["chatId"], "Renamed")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"Cannot write to {mirror.parent}" in line


# -- folder modes -------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_every_folder_the_app_creates_is_0700(tmp_path: Path, open_umask: None) -> None:
    root = tmp_path / "not-yet" / "galileio"
    account = ["account", "add", "local", "--auth", "env", "--region", "us-east-1", "--table", TABLE]
    account += ["--user-id", USER]
    ok(galileio(root, *account))
    ok(galileio(root, "--account", "local", "chats", "create", "Notes"))
    created = [tmp_path / "not-yet", root, *(p for p in root.rglob("*") if p.is_dir())]
    names = {str(p.relative_to(tmp_path)) for p in created}
    assert {"not-yet/galileio/config", "not-yet/galileio/data/mirrors", "not-yet/galileio/logs"} <= names
    assert {str(p.relative_to(tmp_path)): oct(mode(p)) for p in created} == {n: "0o700" for n in names}
    assert all(mode(p) == 0o600 for p in root.rglob("*") if p.is_file())


def test_the_platform_folders_are_created_0700(tmp_path: Path, open_umask: None) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("XDG_")},
        "HOME": str(home),
        "GALILEIO_TABLE": TABLE,
        "GALILEIO_USER_ID": USER,
    }
    ok(galileio(None, "chats", "create", "Notes", env=env))
    folders = [p for p in home.rglob("*") if p.is_dir()]
    paths = AppPaths(
        home / ".config" / "galileio-desktop", home / ".local" / "share" / "galileio-desktop", home
    )
    assert paths.data_dir / "mirrors" in folders and any(p.name == "galileio-desktop" for p in folders)
    assert {str(p.relative_to(home)): oct(mode(p)) for p in folders} == {
        str(p.relative_to(home)): "0o700" for p in folders
    }


def test_private_dir_leaves_existing_parents_alone_and_names_an_unwritable_folder(
    tmp_path: Path, open_umask: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_file(shared / "a" / "b" / "file")
    assert mode(shared) == 0o755 and mode(shared / "a") == mode(shared / "a" / "b") == 0o700
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(FolderUnusable) as caught:
        private_dir(blocker / "inside")
    assert str(blocker) in str(caught.value) and isinstance(caught.value, OSError)
    assert isinstance(caught.value, LocalStorageError) and caught.value.exit_code == 1
