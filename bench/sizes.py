"""Data set sizes: the full set, a quick set that runs in minutes on 2 cores, and the scale tier."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Sizes:
    name: str
    #: delete: a chat of this many messages, each with this many sources
    delete_messages: int = 300
    delete_sources: int = 5
    #: open: a chat of this many messages (questions and answers), sources per answer
    open_messages: int = 2_000
    open_sources_per_answer: int = 3
    #: sync when nothing changed: chats on the server, of which this many opened lately
    sync_chats: int = 500
    sync_opened: int = 5
    #: first sync of a partition of this many items
    first_sync_items: int = 50_000
    #: answer with this many sources
    answer_sources: int = 40
    #: cached mirror: chats, messages in all, and the messages of the biggest chat
    cached_chats: int = 10_000
    cached_messages: int = 100_000
    big_chat_messages: int = 10_000
    #: search: times each query runs (ours; the LIKE baseline runs half as often, at least once)
    search_repeats: int = 4
    #: GUI stalls: messages of the first sync (in chats of 100), items of the chat deleted
    stall_messages: int = 10_000
    stall_delete_items: int = 5_000
    #: runs of each start-up and memory measurement (the median is kept)
    gui_runs: int = 3
    #: scroll: a chat of this many messages (answers in rich Markdown) scrolled to the top
    scroll_messages: int = 10_000

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Sizes("full")
QUICK = replace(
    FULL,
    name="quick",
    first_sync_items=10_000,
    cached_chats=5_000,
    cached_messages=50_000,
    big_chat_messages=5_000,
    search_repeats=2,
    stall_messages=5_000,
    stall_delete_items=2_500,
    gui_runs=2,
    scroll_messages=1_000,
)
#: The scale tier (``--scale``): a mirror of 100,000 chats and 1,000,000 messages, a first
#: sync of 200,000 items.
SCALE = replace(
    FULL,
    name="scale",
    first_sync_items=200_000,
    cached_chats=100_000,
    cached_messages=1_000_000,
    big_chat_messages=10_000,
)
