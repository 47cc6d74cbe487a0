"""The scale tier's parts on tiny data: its mirror is built through the app's write path,
reused while its parameters match and rebuilt when they change, and its measures report.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # bench/ is a folder of the repository, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from bench import datasets as ds  # noqa: E402
from bench import scale  # noqa: E402
from bench.sizes import SCALE  # noqa: E402
from galileio_desktop.data.sync.library import ChatLibrary  # noqa: E402

TINY = replace(SCALE, cached_chats=30, cached_messages=400, big_chat_messages=60, search_repeats=1)


def test_the_mirror_is_built_once_and_reused_while_its_parameters_match(tmp_path: Path) -> None:
    built = scale.scale_mirror(TINY, tmp_path)
    assert not built.reused
    assert (built.mirror.chats, built.mirror.messages) == (30, 400)
    assert built.items == 30 + 400 and built.raw_bytes > 0
    with ChatLibrary(built.mirror.path, ds.USER, None) as lib:
        chats = lib.list_chats()
        assert len(chats) == 30
        assert chats[0].chat.chat_id == built.mirror.big_chat_id  # the most recently active
        assert lib.count_messages(built.mirror.big_chat_id) == 60
        assert lib.search(ds.WORDS.words[0])  # indexed as a pull indexes it

    again = scale.scale_mirror(TINY, tmp_path)
    assert again.reused and again.mirror.path == built.mirror.path
    assert again.sample == built.sample and built.mirror.big_chat_id in built.sample

    other = scale.scale_mirror(replace(TINY, cached_messages=300), tmp_path)
    assert not other.reused and other.mirror.messages == 300
    assert sorted(p.name for p in tmp_path.glob("scale-*.sqlite3")) == [other.mirror.path.name]


def test_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    built = scale.scale_mirror(TINY, tmp_path)
    built.mirror.path.write_bytes(b"not a database")
    again = scale.scale_mirror(TINY, tmp_path)
    assert not again.reused and again.mirror.messages == 400


def test_open_and_size_measures_report_against_their_targets(tmp_path: Path) -> None:
    built = scale.scale_mirror(TINY, tmp_path)
    (opened,) = scale.open_chats(built, TINY)
    assert opened.ours is not None and opened.ours > 0
    assert opened.details["chats"] == len(built.sample) == 30
    assert opened.target == "<= 50 ms" and opened.met == (opened.ours <= 50)
    (size,) = scale.file_size(built)
    assert size.baseline == built.raw_bytes / scale.MB
    assert size.ratio is not None and size.ratio > 1  # a file holds more than the items' bytes
