"""The ``galileio-desktop`` command: global options first, then a command.

Without a command it opens the window. Expected failures print one clear line on
stderr and exit with the documented code; anything else is a bug and shows its trace.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..chat_links import chat_from_argument
from ..data.errors import GalileioError, InvalidInput
from ..data.preferences import THEMES
from .arguments import require_text_arguments

log = logging.getLogger(__name__)

EXIT_CODES = """exit codes:
  0  success (a write saved locally and still to be sent says "pending": true)
  1  the local copy could not be read or written (a full disk, a folder without access)
  2  bad input or usage (nothing written)
  3  endpoint unreachable, not answering as DynamoDB, or not within --timeout
  4  credentials missing, expired or denied
  5  chat or message not found
  6  DynamoDB refused a change for good: see 'changes list'
  7  the app's installation is damaged (a file of it is corrupt or unreadable): reinstall it
"""

#: Modules that add commands, each with ``register(subparsers)``.
COMMAND_MODULES = (
    "galileio_desktop.cli.chat_commands",
    "galileio_desktop.cli.sync_commands",
    "galileio_desktop.cli.change_commands",
    "galileio_desktop.cli.ask_command",
    "galileio_desktop.cli.demo_commands",
    "galileio_desktop.cli.account_commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="galileio-desktop",
        description="Galileio Desktop: your Galileo chats, local-first. Without a command, opens the window.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--endpoint-url", metavar="URL", help="DynamoDB endpoint (default: botocore's)")
    parser.add_argument("--region", metavar="R", help="AWS region")
    parser.add_argument("--table", metavar="NAME", help="chat table (env GALILEIO_TABLE)")
    parser.add_argument("--index", metavar="NAME", default=None, help="time-order index (default GSI1)")
    parser.add_argument(
        "--user-id", metavar="ID", help="the user's id, the partition key (env GALILEIO_USER_ID)"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="one folder for config, data and logs (env GALILEIO_DATA_DIR)"
    )
    parser.add_argument("--account", metavar="NAME", help="use this configured account")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON document on stdout")
    parser.add_argument("--offline", action="store_true", help="never touch the network")
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=_seconds,
        default=None,
        help="stop network work after S seconds (default 30); sync then exits 3",
    )
    parser.add_argument("--demo", action="store_true", help="run on the embedded demo endpoint")
    parser.add_argument(
        "--transport",
        dest="demo_transport",
        choices=("dynamodb", "api"),
        default="dynamodb",
        help="with --demo: reach the demo's chats in its table (dynamodb) or through its API stand-in (api)",
    )
    parser.add_argument("--screenshot", metavar="FILE", help="open the window, save a PNG of it and exit")
    parser.add_argument(
        "--window-size",
        metavar="WxH",
        type=_window_size,
        help="with --screenshot: the window's size in pixels (default 1280x800)",
    )
    parser.add_argument(
        "--theme",
        choices=THEMES,
        help="show the window in this theme, whatever Settings says (system, light or dark)",
    )
    parser.add_argument(
        "--chat",
        metavar="ID",
        nargs="?",
        const="",
        type=_chat,
        help="open the window on this chat (an id, or a galileio-desktop://open?chat=ID link)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 24 * 3600:
        raise argparse.ArgumentTypeError("give a number of seconds above 0 and at most a day")
    return seconds


def _window_size(value: str) -> tuple[int, int]:
    width, _, height = value.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give the size as WIDTHxHEIGHT, such as 800x600, not {value!r}"
        ) from None
    if not all(200 <= side <= 10_000 for side in size):
        raise argparse.ArgumentTypeError("give a width and a height from 200 to 10000 pixels")
    return size


def _chat(value: str) -> str:
    if not value:
        return ""  # "--chat %u" of the desktop entry, started without a link
    try:
        return chat_from_argument(value)
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def run(argv: Sequence[str] | None = None, *, hard_stop: bool = False) -> int:
    """Run one command; ``hard_stop``: the real program (see :mod:`.deadline`)."""
    require_text_arguments(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.chat and getattr(args, "func", None) is not None:
        parser.error("--chat opens a chat in the window: give it without a command")
    from .context import Context
    from .logging_setup import setup_logging
    from .terminal import printable

    ctx = Context.from_args(args, hard_stop=hard_stop)
    setup_logging(ctx.paths.log_dir, verbose=args.verbose)
    func = getattr(args, "func", None)
    try:
        if func is None:
            from .window_command import open_window

            return open_window(ctx)
        return int(func(ctx, args))
    except GalileioError as exc:
        ctx.stderr.write(f"galileio-desktop: {printable(exc.message)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.stderr.write("galileio-desktop: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    finally:
        ctx.close()


def main(argv: Sequence[str] | None = None) -> int:
    return run(argv if argv is not None else sys.argv[1:], hard_stop=True)
