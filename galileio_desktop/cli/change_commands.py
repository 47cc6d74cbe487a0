"""``changes list | retry | discard``: the queued changes, and what to do with refused ones.

A change DynamoDB refused for good (a message for a chat deleted elsewhere, an item the
table's rules reject) is kept, parked, until the user decides: send it again, or give it
up (the local copy then follows the server again). Nothing is ever dropped silently.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..data.errors import InvalidInput, NotFound
from ..data.timestamps import local_text
from .context import Context
from .online import push_now
from .terminal import one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    changes = sub.add_parser("changes", help="queued changes; retry or discard refused ones")
    changes_sub = changes.add_subparsers(dest="changes_command", required=True, metavar="COMMAND")
    changes_sub.add_parser("list", help="every queued change, refused ones with their error").set_defaults(
        func=changes_list
    )
    for name, func, verb in (
        ("retry", changes_retry, "send again"),
        ("discard", changes_discard, "give up (the local copy follows the server again)"),
    ):
        p = changes_sub.add_parser(name, help=f"{verb}: one change by id, or --all refused ones")
        p.add_argument(
            "op_id", nargs="?", type=int, metavar="ID", help="the change's id (see 'changes list')"
        )
        p.add_argument("--all", action="store_true", help="every refused change")
        p.set_defaults(func=func)


def _describe(op: Any) -> str:
    target = f"message {one_line(op.message_id)} in chat" if op.message_id else "chat"
    state = "refused" if op.state == "parked" else "waiting for a refused change" if op.held else "queued"
    line = f"#{op.op_id}  {op.kind}  {target} {one_line(op.chat_id)}  [{state}, {local_text(op.created)}]"
    if op.in_doubt and op.state != "parked":
        line += "  (may already be written; checked at the next sync)"
    if op.error:
        line += f"\n      {one_line(op.error)}"
    return line


def changes_list(ctx: Context, args: argparse.Namespace) -> int:
    operations = ctx.library().status().operations
    ctx.out(
        [op.as_json() for op in operations],
        "\n".join(_describe(op) for op in operations) or "No queued changes.",
    )
    return 0


def _chosen(ctx: Context, args: argparse.Namespace) -> list[Any]:
    if args.all == (args.op_id is not None):
        raise InvalidInput("Give one change's id, or --all (see 'galileio-desktop changes list').")
    operations = ctx.library().status().operations
    if args.all:
        return [op for op in operations if op.state == "parked"]
    found = [op for op in operations if op.op_id == args.op_id]
    if not found:
        raise NotFound(f"There is no queued change #{args.op_id} (see 'galileio-desktop changes list').")
    return found


def changes_retry(ctx: Context, args: argparse.Namespace) -> int:
    """Unpark the chosen changes and push now; with ``--all``, everything queued is sent
    (a retry run again after it was interrupted still sends what the first one unparked)."""
    library = ctx.library()
    chosen = _chosen(ctx, args)
    for op in chosen:
        library.retry(op.op_id)
    ids = {op.op_id for op in chosen}
    pending = push_now(ctx, library, (lambda op: True) if args.all else (lambda op: op.op_id in ids))
    if ids:
        text = f"Sent again: {len(ids)} change(s){'; some are still queued' if pending else ''}."
    else:
        text = "No refused changes" + ("; queued changes are still waiting." if pending else ".")
    ctx.out({"retried": sorted(ids), "pending": pending}, text)
    return 0


def changes_discard(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    chosen = _chosen(ctx, args)
    before = {op.op_id for op in library.status().operations}
    for op in chosen:
        if op.op_id in {o.op_id for o in library.status().operations}:  # not taken with an earlier one
            library.discard(op.op_id)
    discarded = sorted(before - {op.op_id for op in library.status().operations})
    ctx.out(
        {"discarded": discarded},
        f"Discarded {len(discarded)} change(s); the local copy follows DynamoDB again."
        if discarded
        else "No refused changes.",
    )
    return 0
