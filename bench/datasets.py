"""The benchmark's data: chats in the web app's item shapes, loaded fast.

Items are built with the project's own schema classes (so they are exactly what the
web app and the app write), from a seeded random generator (so every run measures
the same data). Text follows a Zipf-like word distribution over a made-up
vocabulary, which gives full-text search realistic rare and common words.

Remote data sets are written straight into moto (``direct_url``: no delay, not
counted) with concurrent batch writes. Cached data sets are written into a mirror
with the mirror's own functions, exactly as a completed reconcile leaves it.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galileio_desktop.data.dynamo.batch_writer import put_request, write_all
from galileio_desktop.data.dynamo.item_size import item_size
from galileio_desktop.data.schema import Chat, Message, TypedItem, make_sources

USER = "bench-user-0001"
#: Start of the generated history: every timestamp is after this (epoch ms, mid-2024).
EPOCH_MS = 1_717_200_000_000
_SYLLABLES = (
    "ka lo mi ra ne to su va de ri po la ze mu ta ki no be sa li go fa re du ko ma "
    "vi te pa ru ho ne xi lu da ge mo si "
).split()


class Words:
    """A made-up vocabulary with Zipf-like frequencies (word of rank r has weight 1/r)."""

    def __init__(self, size: int = 6000, seed: int = 7) -> None:
        rng = random.Random(seed)
        words: list[str] = []
        seen: set[str] = set()
        while len(words) < size:
            word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            if word not in seen:
                seen.add(word)
                words.append(word)
        self.words = words
        self._cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(size)))

    def pick(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self._cumulative, k=count)

    def text(self, rng: random.Random, low: int, high: int) -> str:
        words = self.pick(rng, rng.randint(low, high))
        words[0] = words[0].capitalize()
        return " ".join(words) + "."


WORDS = Words()


def seeded_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class ChatData:
    """One generated chat: its item, its messages' items, its sources' items."""

    chat: Chat
    messages: list[TypedItem] = field(default_factory=list)
    sources: list[TypedItem] = field(default_factory=list)

    @property
    def chat_id(self) -> str:
        return self.chat.chat_id

    def items(self) -> list[TypedItem]:
        return [self.chat.to_item(), *self.messages, *self.sources]

    @property
    def message_count(self) -> int:
        return len(self.messages)


def make_chat(
    rng: random.Random,
    messages: int,
    *,
    sources_per_answer: int = 0,
    sources_on_every_message: bool = False,
    created_at: int | None = None,
    user_id: str = USER,
    title: str | None = None,
) -> ChatData:
    """A chat of alternating questions and answers, one second apart.

    Answers carry ``sources_per_answer`` sources each; with ``sources_on_every_message``
    every message does (the shape "N messages x S sources").
    """
    start = created_at if created_at is not None else EPOCH_MS + rng.randrange(0, 300 * 86_400_000)
    chat = Chat(seeded_id(rng), user_id, title or WORDS.text(rng, 2, 6).rstrip("."), start)
    data = ChatData(chat)
    for index in range(messages):
        kind = "human" if index % 2 == 0 else "ai"
        at = start + 1000 * (index + 1)
        message_id = seeded_id(rng)
        content = WORDS.text(rng, 8, 30) if kind == "human" else WORDS.text(rng, 40, 120)
        data.messages.append(Message(message_id, chat.chat_id, user_id, kind, content, at).to_item())
        count = sources_per_answer if (kind == "ai" or sources_on_every_message) else 0
        if count:
            drafts = [
                {
                    "pageContent": WORDS.text(rng, 60, 110),
                    "metadata": {
                        "source_location": f"s3://bench-docs/doc-{rng.randrange(500)}.pdf",
                        "section_index": i,
                    },
                }
                for i in range(count)
            ]
            data.sources.extend(
                s.to_item() for s in make_sources(user_id, chat.chat_id, message_id, drafts, at)
            )
    return data


def make_chats(
    seed: int, chats: int, messages_per_chat: int, sources_per_answer: int = 0, user_id: str = USER
) -> list[ChatData]:
    rng = random.Random(seed)
    return [
        make_chat(rng, messages_per_chat, sources_per_answer=sources_per_answer, user_id=user_id)
        for _ in range(chats)
    ]


def partition_of_size(seed: int, total_items: int, user_id: str = USER) -> list[ChatData]:
    """Chats of 20 messages with 3 sources per answer until ``total_items`` items (exactly)."""
    rng = random.Random(seed)
    out: list[ChatData] = []
    remaining = total_items
    while remaining > 0:
        per_chat = 1 + 20 + 10 * 3
        if remaining >= per_chat:
            out.append(make_chat(rng, 20, sources_per_answer=3, user_id=user_id))
            remaining -= per_chat
        else:
            out.append(make_chat(rng, remaining - 1, user_id=user_id))
            remaining = 0
    return out


def all_items(chats: Iterable[ChatData]) -> Iterator[TypedItem]:
    for chat in chats:
        yield from chat.items()


def total_bytes(items: Iterable[TypedItem]) -> int:
    """Bytes as DynamoDB counts them (its item size rules)."""
    return sum(item_size(i) for i in items)


# -- loading ---------------------------------------------------------------------------


def create_table(client: Any, table: str) -> None:
    from galileio_desktop.data.dynamo.table_admin import create_table as create

    create(client, table)


def load_remote(client: Any, table: str, items: Iterable[TypedItem], workers: int = 6) -> int:
    """Write items with concurrent BatchWriteItem calls (25 a call); returns how many."""
    requests = [put_request(i) for i in items]
    with ThreadPoolExecutor(workers) as pool:
        write_all(client, table, requests, pool)
    return len(requests)


def build_mirror(path: Path, user_id: str, items: Iterable[TypedItem], now_ms: int) -> int:
    """A mirror as a completed reconcile leaves it: every item confirmed, every chat cached.

    Uses the mirror's own functions (the ones the puller calls), in one transaction.
    """
    from galileio_desktop.data.mirror import items as mirror_items
    from galileio_desktop.data.mirror import sync_state
    from galileio_desktop.data.mirror.database import Mirror

    mirror = Mirror(path, user_id)
    count = 0
    try:
        with mirror.write() as conn:
            seq = mirror.next_seq(conn)
            no_ops: set[str] = set()
            for item in items:
                mirror_items.put_remote(conn, item, seq, no_ops)
                count += 1
            sync_state.mark_all_cached(conn)
            for key in (sync_state.LAST_RECONCILE, sync_state.LAST_PULL, sync_state.LAST_SYNC):
                sync_state.set_time(conn, key, now_ms)
    finally:
        mirror.close()
    return count
