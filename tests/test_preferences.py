"""Preferences on disk and the local data's sizes: the core under Settings, without Qt."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from galileio_desktop.data.errors import InvalidInput, LocalStorageError
from galileio_desktop.data.local_data import data_folder_of, folder_size, format_size, measure
from galileio_desktop.data.mirror.database import mirror_path_for
from galileio_desktop.data.preferences import FILE_NAME, Preferences, PreferencesStore


def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    assert PreferencesStore(tmp_path).load() == Preferences("system", 100, 0, 60)


def test_saved_preferences_read_back_private(tmp_path: Path) -> None:
    store = PreferencesStore(tmp_path / "config")
    store.save(Preferences(theme="dark", zoom_percent=125, font_size=12, sync_interval_s=300))
    assert PreferencesStore(tmp_path / "config").load() == Preferences("dark", 125, 12, 300)
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    data = json.loads(store.path.read_text())
    assert data["version"] == 1 and data["theme"] == "dark"


@pytest.mark.parametrize(
    ("prefs", "words"),
    [
        (Preferences(theme="sepia"), "Unknown theme 'sepia'"),
        (Preferences(zoom_percent=20), "Zoom must be a whole number from 50% to 200%"),
        (Preferences(font_size=99), "Text size must be a whole number from 0 pt to 32 pt"),
        (Preferences(sync_interval_s=1), "Sync interval must be a whole number from 15 seconds"),
    ],
)
def test_values_out_of_range_are_refused_and_nothing_is_written(
    tmp_path: Path, prefs: Preferences, words: str
) -> None:
    store = PreferencesStore(tmp_path)
    with pytest.raises(InvalidInput, match=words):
        store.save(prefs)
    assert not store.path.exists()


def test_a_bad_value_in_the_file_gives_its_default_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text(
        json.dumps(
            {"version": 1, "theme": "dark", "zoom_percent": "huge", "font_size": 500, "sync_interval_s": 900}
        )
    )
    assert PreferencesStore(tmp_path).load() == Preferences("dark", 100, 0, 900)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"dark"', ""])
def test_a_damaged_file_gives_the_defaults(tmp_path: Path, text: str) -> None:
    (tmp_path / FILE_NAME).write_text(text)
    assert PreferencesStore(tmp_path).load() == Preferences()


def test_a_file_from_a_newer_version_keeps_what_this_one_knows(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text(json.dumps({"version": 9, "theme": "light", "accent": "pink"}))
    assert PreferencesStore(tmp_path).load().theme == "light"


def test_a_folder_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "config"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(LocalStorageError, match="config"):
        PreferencesStore(blocker / "window").save(Preferences(theme="dark"))
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / FILE_NAME).mkdir()  # a folder where the file should be
    with pytest.raises(LocalStorageError, match="Cannot write to"):
        PreferencesStore(tmp_path / "ok").save(Preferences(theme="dark"))


def test_sizes_of_the_data_folder_and_of_one_account(tmp_path: Path) -> None:
    mirror = mirror_path_for(tmp_path, "user-1", "table", None, region="eu-west-1")
    mirror.parent.mkdir(parents=True)
    mirror.write_bytes(b"x" * 3000)
    Path(f"{mirror}-wal").write_bytes(b"w" * 500)
    other = mirror.with_name("other.sqlite3")
    other.write_bytes(b"o" * 1000)
    (tmp_path / "docs-index").mkdir()
    (tmp_path / "docs-index" / "index.sqlite3").write_bytes(b"i" * 200)
    os.symlink("/", tmp_path / "docs-index" / "root-link")  # never followed
    usage = measure(mirror)
    assert data_folder_of(mirror) == tmp_path
    assert (usage.folder, usage.account_bytes, usage.folder_bytes) == (tmp_path, 3500, 4700)


def test_a_folder_that_cannot_be_read_is_said_in_words(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("")
    with pytest.raises(LocalStorageError, match=r"Cannot read .*data"):
        folder_size(not_a_folder)
    assert folder_size(tmp_path / "missing") == 0


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (999, "999 bytes"),
        (1500, "1.5 KB"),
        (12_400_000, "12.4 MB"),
        (250_000_000, "250 MB"),
    ],
)
def test_sizes_read_as_people_read_them(size: int, text: str) -> None:
    assert format_size(size) == text
