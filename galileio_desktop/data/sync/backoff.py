"""When to try a failed operation again: exponential backoff with jitter, as a time.

The delay is stored in the outbox row (``next_attempt``) rather than slept, so a
closed app, another process or the next sync picks it up where it was.
"""

from __future__ import annotations

import random
from collections.abc import Callable

BASE_MS = 2_000
CAP_MS = 10 * 60 * 1000


def retry_delay_ms(attempts: int, rand: Callable[[], float] = random.random) -> int:
    """Delay after the ``attempts``-th failed attempt: 2 s, 4 s, 8 s ... up to 10 min,
    each scaled by a random factor in [0.5, 1) so devices that failed together do not
    come back together."""
    exponent = max(0, attempts - 1)
    ceiling = CAP_MS if exponent >= 20 else min(CAP_MS, BASE_MS * (2**exponent))
    return int(ceiling * (0.5 + rand() / 2))
