"""``demo-server``: the embedded endpoint with the demo user's chats, for the CLI and scripts."""

from __future__ import annotations

import argparse
import threading

from ..data.errors import InvalidInput
from .context import Context


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo-server", help="serve the seeded demo endpoint until interrupted")
    p.add_argument(
        "--port", default="0", metavar="PORT", help="port on 127.0.0.1, 0-65535 (default 0: a free one)"
    )
    p.set_defaults(func=demo_server)


def demo_server(ctx: Context, args: argparse.Namespace) -> int:
    from ..demo import DemoServer, validate_port

    try:
        port = int(args.port)
    except ValueError:
        raise InvalidInput(f"--port must be a number between 0 and 65535, not {args.port!r}.") from None
    server = DemoServer(validate_port(port))
    info = server.start()
    try:
        ctx.out(
            info.as_json(),
            f"Demo endpoint: {info.endpoint_url}\nTable: {info.table}\nUser id: {info.user_id}\n\n"
            f"Try:\n  {info.cli_hint()}\n\nServing until interrupted (Ctrl+C).",
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
