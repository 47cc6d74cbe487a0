"""A long chat whose answers look like real ones: the scroll benchmark's data.

Answers are Markdown as an assistant writes it: headings, lists, bold, inline code,
citations [1] [2] (every answer carries 2 or 3 sources, so the citations become
links), fenced SQL and Python blocks (some with a line of over 200 characters) and
tables (some of 18 columns with long header names). Questions are a sentence or two.
The mix repeats every few answers, so every stretch of the chat has each kind; the
words come from the benchmark's made-up vocabulary and a seeded generator, so every
run scrolls the same chat.
"""

from __future__ import annotations

import random

from bench.datasets import USER, WORDS, ChatData, seeded_id
from galileio_desktop.data.schema import Chat, Message, make_sources

#: Answer shapes in the order they repeat (one answer in four has code, one in five a table).
SHAPES = ("prose", "code", "prose", "table", "list", "code", "prose", "wide-table", "prose", "long-code")
WIDE_COLUMNS = (
    "customer_id",
    "customer_name",
    "country_code",
    "segment",
    "account_manager",
    "signup_date",
    "first_order_date",
    "last_order_date",
    "days_since_last_order",
    "orders_total",
    "shipments_total",
    "revenue_total_eur",
    "avg_order_value_eur",
    "gross_margin_pct",
    "customer_lifetime_value_eur",
    "churn_probability_pct",
    "preferred_carrier",
    "marketing_opt_in",
)


def _words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(WORDS.pick(rng, rng.randint(low, high)))


def _sentence(rng: random.Random, sources: int, low: int = 8, high: int = 22) -> str:
    """A sentence with, now and then, bold, inline code and a citation."""
    words = WORDS.pick(rng, rng.randint(low, high))
    words[0] = words[0].capitalize()
    spots = rng.sample(range(len(words)), 2)
    if rng.random() < 0.4:
        words[spots[0]] = f"**{words[spots[0]]}**"
    if rng.random() < 0.4:
        words[spots[1]] = f"`{words[spots[1]]}_{rng.choice(WORDS.words[:200])}`"
    text = " ".join(words) + "."
    if rng.random() < 0.6:
        text = text[:-1] + f" [{rng.randint(1, sources)}]."
    return text


def _paragraph(rng: random.Random, sources: int, sentences: tuple[int, int] = (2, 4)) -> str:
    return " ".join(_sentence(rng, sources) for _ in range(rng.randint(*sentences)))


def _bullets(rng: random.Random, sources: int, numbered: bool = False) -> str:
    count = rng.randint(3, 5)
    return "\n".join(
        f"{f'{n + 1}.' if numbered else '-'} {_sentence(rng, sources, 5, 14)}" for n in range(count)
    )


def _sql(rng: random.Random, long_line: bool) -> str:
    table = "_".join(WORDS.pick(rng, 2))
    columns = [f"t.{'_'.join(WORDS.pick(rng, 2))}" for _ in range(rng.randint(4, 9))]
    lines = ["```sql", "select"]
    lines += [f"    {'' if i == 0 else ', '}{c}" for i, c in enumerate(columns)]
    if long_line:
        parts = " + ".join(f"coalesce(t.{'_'.join(WORDS.pick(rng, 3))}, 0)" for _ in range(6))
        lines.append(f"    , round({parts}, 2) as {'_'.join(WORDS.pick(rng, 3))}")
    lines += [
        f"from analytics.{table} as t",
        f"where t.created_at >= date '2024-{rng.randint(1, 12):02d}-01'",
        f"  and t.{'_'.join(WORDS.pick(rng, 2))} is not null",
        "order by 1",
        "```",
    ]
    return "\n".join(lines)


def _python(rng: random.Random, long_line: bool) -> str:
    name = "_".join(WORDS.pick(rng, 2))
    lines = [
        "```python",
        f"def {name}(rows):",
        f'    """{_words(rng, 4, 9).capitalize()}."""',
        "    found = {}",
    ]
    for _ in range(rng.randint(3, 7)):
        key = "_".join(WORDS.pick(rng, 2))
        lines.append(f'    found["{key}"] = sum(r.{key} for r in rows if r.{key} is not None)')
    if long_line:
        terms = ", ".join(
            f'"{"_".join(WORDS.pick(rng, 3))}": rows[0].{"_".join(WORDS.pick(rng, 2))}' for _ in range(6)
        )
        lines.append(f"    found.update({{{terms}}})")
    lines += ["    return found", "```"]
    return "\n".join(lines)


def _table(rng: random.Random, columns: list[str], rows: int) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _ in range(rows):
        cells = [
            str(rng.randint(1, 99_999))
            if rng.random() < 0.4
            else " ".join(WORDS.pick(rng, rng.randint(1, 3)))
            for _ in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def answer_text(rng: random.Random, number: int, sources: int) -> str:
    """The ``number``-th answer of the chat, citing sources 1..``sources``."""
    shape = SHAPES[number % len(SHAPES)]
    parts = [f"## {_words(rng, 2, 5).capitalize()}", _paragraph(rng, sources)]
    if shape == "list":
        parts += [
            _bullets(rng, sources),
            f"### {_words(rng, 2, 4).capitalize()}",
            _bullets(rng, sources, True),
        ]
    elif shape in ("code", "long-code"):
        long_line = shape == "long-code"
        parts.append(_python(rng, long_line) if number // len(SHAPES) % 2 else _sql(rng, long_line))
        parts.append(_bullets(rng, sources))
    elif shape == "table":
        columns = [_words(rng, 1, 2).replace(" ", "_") for _ in range(rng.randint(3, 6))]
        parts.append(_table(rng, columns, rng.randint(3, 8)))
    elif shape == "wide-table":
        parts.append(_table(rng, list(WIDE_COLUMNS), rng.randint(3, 6)))
        parts.append(_bullets(rng, sources))
    else:
        parts.append(_paragraph(rng, sources, (1, 3)))
    return "\n\n".join(parts)


def question_text(rng: random.Random) -> str:
    text = WORDS.text(rng, 8, 30)
    if rng.random() < 0.3:
        text += f" What does `{'_'.join(WORDS.pick(rng, 2))}` hold?"
    return text


def make_rich_chat(
    rng: random.Random, messages: int, *, created_at: int, title: str = "Rich answers"
) -> ChatData:
    """Questions and answers one second apart; every answer with 2 or 3 sources."""
    chat = Chat(seeded_id(rng), USER, title, created_at)
    data = ChatData(chat)
    for index in range(messages):
        at = created_at + 1000 * (index + 1)
        message_id = seeded_id(rng)
        if index % 2 == 0:
            data.messages.append(
                Message(message_id, chat.chat_id, USER, "human", question_text(rng), at).to_item()
            )
            continue
        count = 2 + index // 2 % 2
        content = answer_text(rng, index // 2, count)
        data.messages.append(Message(message_id, chat.chat_id, USER, "ai", content, at).to_item())
        drafts = [
            {
                "pageContent": WORDS.text(rng, 40, 80),
                "metadata": {
                    "source_location": f"s3://bench-docs/doc-{rng.randrange(500)}.pdf",
                    "section_index": i,
                },
            }
            for i in range(count)
        ]
        data.sources.extend(s.to_item() for s in make_sources(USER, chat.chat_id, message_id, drafts, at))
    return data


def raw_texts(chat: ChatData) -> list[str]:
    """Every message's raw text, oldest first (what the baseline list shows)."""
    return [str(item["data"]["M"]["content"]["S"]) for item in chat.messages]
