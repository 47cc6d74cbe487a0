"""Entry point of ``galileio-desktop`` and ``python -m galileio_desktop``."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from .cli.main import run

    return run(argv if argv is not None else sys.argv[1:], hard_stop=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
