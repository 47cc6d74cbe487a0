"""Server-sent events, as OpenAI-compatible servers stream chat completions.

Follows the event stream format of the HTML standard closely enough for these
servers: ``data:`` lines accumulate until a blank line ends the event; comments
(``:``), ``event:``, ``id:`` and ``retry:`` lines are read and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str


def iter_events(readline: Callable[[], bytes]) -> Iterator[ServerSentEvent]:
    """Events from a byte stream read line by line; ends at end of stream."""
    data: list[str] = []
    event = "message"
    while True:
        raw = readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent(event, "\n".join(data))
            data, event = [], "message"
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value or "message"
    if data:  # a stream cut without the final blank line still delivers its last event
        yield ServerSentEvent(event, "\n".join(data))
