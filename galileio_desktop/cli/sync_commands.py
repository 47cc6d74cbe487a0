"""``sync``, ``status`` and ``search``: the mirror and its queue, seen from the shell."""

from __future__ import annotations

import argparse

from ..data.errors import ChangeRefused, EndpointUnreachable, InvalidInput, SyncBusy, Throttled
from ..data.timestamps import local_text
from .context import Context
from .terminal import one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="push queued changes, then pull the server's")
    p.add_argument(
        "--reconcile", action="store_true", help="also compare the whole partition (finds remote deletes)"
    )
    p.set_defaults(func=sync)
    sub.add_parser("status", help="queued and refused changes, last sync").set_defaults(func=status)
    p = sub.add_parser("search", help="full-text search over chats, messages and sources")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=search)


def _when(ms: int | None) -> str:
    return local_text(ms) if ms else "never"


def sync(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.offline:
        raise InvalidInput("'sync' needs the network; drop --offline.")
    library = ctx.library()

    def progress(what: str, done: int, total: int) -> None:
        if not ctx.json and total > 200:
            ctx.info(f"{what}: {done}/{total}")

    try:
        result = library.sync(progress)
        if args.reconcile and not result.pull.reconciled:
            library.pull(reconcile=True, progress=progress)
    except (EndpointUnreachable, Throttled, SyncBusy) as exc:
        pending = library.status().pending
        if ctx.json:
            ctx.out({"error": exc.message, "pending": pending, "online": False})
        ctx.info(f"galileio-desktop: {exc.message} {pending} change(s) still pending.")
        return exc.exit_code
    document = {**result.as_json(), "online": True}
    ctx.out(
        document,
        f"Synced: sent {result.push.pushed}, received {result.pull.changed} change(s), "
        f"removed {result.pull.removed}; {result.pending} pending, {result.parked} refused.",
    )
    if result.parked:
        ctx.info(
            f"galileio-desktop: {result.parked} change(s) were refused by DynamoDB and are kept; "
            "see 'galileio-desktop changes list' to retry or discard them."
        )
        return ChangeRefused.exit_code
    return 0 if result.pending == 0 else 3


def status(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.library().status()
    lines = [
        f"Pending changes: {state.pending}",
        f"Refused changes: {state.parked}",
        f"Last sync: {_when(state.last_sync)}",
        f"Last full reconcile: {_when(state.last_reconcile)}",
    ]
    for op in state.operations:
        line = f"  #{op.op_id} {op.kind} chat {one_line(op.chat_id)} [{op.state}, {op.attempts} attempt(s)]"
        if op.error:
            line += f": {one_line(op.error)}"
        lines.append(line)
    ctx.out(state.as_json(), "\n".join(lines))
    return 0


def search(ctx: Context, args: argparse.Namespace) -> int:
    if not args.query.strip():
        raise InvalidInput("Search for what? The query is empty.")
    hits = ctx.library().search(args.query, limit=max(1, args.limit))
    ctx.out(
        [
            {"chatId": h.chat_id, "messageId": h.message_id, "title": h.title, "snippet": h.snippet}
            for h in hits
        ],
        "\n".join(f"{one_line(h.chat_id)}  {one_line(h.title)}\n    {one_line(h.snippet)}" for h in hits)
        or "No matches.",
    )
    return 0
