"""Commands over chats, messages and sources: table, chats, messages, sources, export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..data.errors import InvalidInput, NotFound
from ..data.export import FORMATS, export_library_chat, write_library_chat
from ..data.schema import validate_title
from .context import Context, read_text_argument
from .online import of_chat, of_message, push_now, refresh, require_chat
from .terminal import one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    table = sub.add_parser("table", help="manage the chat table")
    table_sub = table.add_subparsers(dest="table_command", required=True, metavar="COMMAND")
    create = table_sub.add_parser("create", help="create the table as the web app's stack does")
    create.set_defaults(func=table_create)

    chats = sub.add_parser("chats", help="list, create, rename, pin and delete chats")
    chats_sub = chats.add_subparsers(dest="chats_command", required=True, metavar="COMMAND")
    chats_sub.add_parser("list", help="chats, pinned first, then most recent first").set_defaults(
        func=chats_list
    )
    p = chats_sub.add_parser("create", help="create a chat")
    p.add_argument("title")
    p.set_defaults(func=chats_create)
    p = chats_sub.add_parser("rename", help="rename a chat")
    p.add_argument("chat_id")
    p.add_argument("title")
    p.set_defaults(func=chats_rename)
    for name, pinned, text in (("pin", True, "pin a chat (listed first)"), ("unpin", False, "unpin a chat")):
        p = chats_sub.add_parser(name, help=text)
        p.add_argument("chat_id")
        p.set_defaults(func=chats_pin, pinned=pinned)
    p = chats_sub.add_parser("delete", help="delete a chat with all its messages and sources")
    p.add_argument("chat_id")
    p.set_defaults(func=chats_delete)

    messages = sub.add_parser("messages", help="list, add and delete messages")
    messages_sub = messages.add_subparsers(dest="messages_command", required=True, metavar="COMMAND")
    p = messages_sub.add_parser("list", help="messages of a chat, oldest first")
    p.add_argument("chat_id")
    p.set_defaults(func=messages_list)
    p = messages_sub.add_parser("add", help="add a message (TEXT '-' reads standard input)")
    p.add_argument("chat_id")
    p.add_argument("text")
    p.add_argument("--type", default="human", choices=("human", "ai"))
    p.add_argument("--sources", metavar="FILE", help="JSON array of {pageContent, metadata}")
    p.set_defaults(func=messages_add)
    p = messages_sub.add_parser("delete", help="delete a message and its sources")
    p.add_argument("chat_id")
    p.add_argument("message_id")
    p.set_defaults(func=messages_delete)

    sources = sub.add_parser("sources", help="sources cited by an answer")
    sources_sub = sources.add_subparsers(dest="sources_command", required=True, metavar="COMMAND")
    p = sources_sub.add_parser("list", help="sources of a message, in sourceId order")
    p.add_argument("chat_id")
    p.add_argument("message_id")
    p.set_defaults(func=sources_list)

    p = sub.add_parser("export", help="export a chat with its sources")
    p.add_argument("chat_id")
    p.add_argument("--format", choices=FORMATS, default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=export)


# -- handlers ---------------------------------------------------------------------------


def table_create(ctx: Context, args: argparse.Namespace) -> int:
    from ..data.dynamo.cancellation import CancelToken, make_interruptible
    from ..data.dynamo.dynamo_client import make_dynamodb_client
    from ..data.dynamo.table_admin import create_table

    workspace = ctx.workspace()
    account = workspace.account
    client = make_dynamodb_client(account.region, account.endpoint_url, workspace.session().boto3_session)
    token = CancelToken()
    make_interruptible(client, token)
    ctx.deadline.watch(token)
    created = create_table(client, account.table, account.index)
    ctx.out(
        {"table": account.table, "created": created, "status": "ACTIVE"},
        f"Table {account.table} {'created' if created else 'already exists'} and is ACTIVE.",
    )
    return 0


def chats_list(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    refresh(ctx, library)
    chats = library.list_chats()
    ctx.out(
        [c.as_json() for c in chats],
        "\n".join(
            f"{one_line(c.chat.chat_id)}  {'(pinned) ' if c.pinned else ''}{one_line(c.chat.title)}"
            f"{'  (pending)' if c.pending else ''}"
            for c in chats
        )
        or "No chats.",
    )
    return 0


def chats_create(ctx: Context, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    library = ctx.library()
    chat = library.create_chat(title)
    pending = push_now(ctx, library, of_chat(chat.chat_id, "create_chat"))
    # Created through the deployment's API, the chat has the id the server made.
    view = library.get_chat(library.current_chat_id(chat.chat_id))
    chat = view.chat if view is not None else chat
    ctx.out({**chat.as_json(), "pending": pending}, chat.chat_id)
    return 0


def chats_rename(ctx: Context, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    library = ctx.library()
    require_chat(ctx, library, args.chat_id)
    library.rename_chat(args.chat_id, title)
    pending = push_now(ctx, library, of_chat(args.chat_id, "rename_chat"))
    view = library.get_chat(args.chat_id)
    if view is None:
        raise NotFound(f"Chat {args.chat_id} was deleted (on another device or in the web app).")
    ctx.out(
        {**view.chat.as_json(), "pending": pending},
        f"Renamed {one_line(args.chat_id)} to {one_line(title)!r}.",
    )
    return 0


def chats_pin(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id)
    library.pin_chat(args.chat_id, args.pinned)
    pending = push_now(ctx, library, of_chat(args.chat_id, "pin_chat"))
    view = library.get_chat(args.chat_id)
    if view is None:
        raise NotFound(f"Chat {args.chat_id} was deleted (on another device or in the web app).")
    ctx.out(
        {**view.as_json(), "pending": pending},
        f"{'Pinned' if view.pinned else 'Unpinned'} {one_line(args.chat_id)}.",
    )
    return 0


def chats_delete(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    messages = library.list_messages(args.chat_id)
    sources = sum(len(library.list_sources(v.message.message_id)) for v in messages)
    library.delete_chat(args.chat_id)
    pending = push_now(ctx, library, of_chat(args.chat_id, "delete_chat"))
    result = {
        "chatId": args.chat_id,
        "deletedMessages": len(messages),
        "deletedSources": sources,
        "pending": pending,
    }
    ctx.out(result, f"Deleted chat {args.chat_id}: {len(messages)} messages, {sources} sources.")
    return 0


def messages_list(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    views = library.list_messages(args.chat_id)
    ctx.out(
        [v.as_json() for v in views],
        "\n\n".join(f"[{v.message.type}] {v.message.content}" for v in views) or "No messages.",
    )
    return 0


def read_sources_file(path: str | None) -> list[dict[str, Any]]:
    """The drafts of ``--sources``: a JSON array in UTF-8, refused in one line otherwise.

    JSON can spell a lone surrogate (``"\\ud800"``), which no UTF-8 store accepts: found
    here, with where it is, rather than as a failure while saving.
    """
    if not path:
        return []
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read the sources file {path}: {exc.strerror}.") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The sources file {path} is not valid UTF-8 text (byte {exc.start + 1}); nothing was written."
        ) from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The sources file {path} is not valid JSON: {exc}.") from exc
    if not isinstance(data, list):
        raise InvalidInput(f"The sources file {path} must hold a JSON array of {{pageContent, metadata}}.")
    for index, draft in enumerate(data):
        if not _encodable(draft):
            raise InvalidInput(
                f"Source {index} in {path} holds text that is not valid Unicode (a lone surrogate); "
                "nothing was written."
            )
    return data


def _encodable(value: Any) -> bool:
    """True when every string in ``value`` (keys included) can be written as UTF-8."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def messages_add(ctx: Context, args: argparse.Namespace) -> int:
    text = read_text_argument(args.text)
    if not text.strip():
        raise InvalidInput("A message cannot be empty.")
    drafts = read_sources_file(args.sources)
    library = ctx.library()
    require_chat(ctx, library, args.chat_id)
    message = library.add_message(args.chat_id, args.type, text, drafts)
    pending = push_now(ctx, library, of_message(message.message_id, "put_message"))
    ctx.out({**message.as_json(with_sources=True), "pending": pending}, message.message_id)
    return 0


def messages_delete(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    sources = len(library.list_sources(args.message_id))
    library.delete_message(args.chat_id, args.message_id)
    pending = push_now(ctx, library, of_message(args.message_id, "delete_message"))
    ctx.out(
        {"chatId": args.chat_id, "messageId": args.message_id, "deletedSources": sources, "pending": pending},
        f"Deleted message {args.message_id} and {sources} sources.",
    )
    return 0


def sources_list(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    sources = library.list_sources(args.message_id)
    ctx.out(
        [s.as_json() for s in sources],
        "\n\n".join(f"[{one_line(s.source_id)}] {one_line(s.location)}\n{s.page_content}" for s in sources)
        or "No sources.",
    )
    return 0


def export(ctx: Context, args: argparse.Namespace) -> int:
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    if args.output:
        write_library_chat(library, args.chat_id, args.format, args.output)
        ctx.info(f"Exported {library.count_messages(args.chat_id)} messages to {args.output}.")
    else:
        ctx.stdout.write(export_library_chat(library, args.chat_id, args.format))
    return 0
