"""Commands over chats, messages and sources: table, chats, messages, sources, export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..data.errors import InvalidInput, NotFound
from ..data.export import FORMATS, export_chat
from ..data.schema import (
    Chat,
    Message,
    check_item_size,
    make_sources,
    new_id,
    now_ms,
    validate_message_type,
    validate_title,
)
from .context import Context, read_text_argument


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    table = sub.add_parser("table", help="manage the chat table")
    table_sub = table.add_subparsers(dest="table_command", required=True, metavar="COMMAND")
    create = table_sub.add_parser("create", help="create the table as the web app's stack does")
    create.set_defaults(func=table_create)

    chats = sub.add_parser("chats", help="list, create, rename and delete chats")
    chats_sub = chats.add_subparsers(dest="chats_command", required=True, metavar="COMMAND")
    chats_sub.add_parser("list", help="chats, most recent first").set_defaults(func=chats_list)
    p = chats_sub.add_parser("create", help="create a chat")
    p.add_argument("title")
    p.set_defaults(func=chats_create)
    p = chats_sub.add_parser("rename", help="rename a chat")
    p.add_argument("chat_id")
    p.add_argument("title")
    p.set_defaults(func=chats_rename)
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
    from ..data.table_admin import create_table

    created = create_table(ctx.dynamodb_client(), ctx.table, ctx.index)
    ctx.out(
        {"table": ctx.table, "created": created, "status": "ACTIVE"},
        f"Table {ctx.table} {'created' if created else 'already exists'} and is ACTIVE.",
    )
    return 0


def chats_list(ctx: Context, args: argparse.Namespace) -> int:
    chats = ctx.gateway().list_chats()
    ctx.out(
        [c.as_json() for c in chats],
        "\n".join(f"{c.chat_id}  {c.title}" for c in chats) if chats else "No chats.",
    )
    return 0


def chats_create(ctx: Context, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    chat = Chat(new_id(), ctx.user_id, title, now_ms())
    check_item_size(chat.to_item(), "The chat")
    ctx.gateway().create_chat(chat)
    ctx.out(chat.as_json(), chat.chat_id)
    return 0


def chats_rename(ctx: Context, args: argparse.Namespace) -> int:
    title = validate_title(args.title)
    item = ctx.gateway().rename_chat(args.chat_id, title, now_ms())
    chat = Chat.from_item(item)
    ctx.out(chat.as_json(), f"Renamed {chat.chat_id} to {chat.title!r}.")
    return 0


def chats_delete(ctx: Context, args: argparse.Namespace) -> int:
    gateway = ctx.gateway()
    if gateway.get_chat(args.chat_id) is None:
        raise NotFound(f"Chat {args.chat_id} does not exist.")
    result = gateway.delete_chat(args.chat_id)
    ctx.out(
        result.as_json(),
        f"Deleted chat {args.chat_id}: {result.deleted_messages} messages, "
        f"{result.deleted_sources} sources.",
    )
    return 0


def _require_chat(ctx: Context, chat_id: str) -> Chat:
    chat = ctx.gateway().get_chat(chat_id)
    if chat is None:
        raise NotFound(f"Chat {chat_id} does not exist.")
    return chat


def messages_list(ctx: Context, args: argparse.Namespace) -> int:
    _require_chat(ctx, args.chat_id)
    messages = ctx.gateway().list_messages(args.chat_id)
    ctx.out(
        [m.as_json() for m in messages],
        "\n\n".join(f"[{m.type}] {m.content}" for m in messages) if messages else "No messages.",
    )
    return 0


def read_sources_file(path: str | None) -> list[dict[str, Any]]:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"Cannot read the sources file {path}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"The sources file {path} is not valid JSON: {exc}.") from exc
    if not isinstance(data, list):
        raise InvalidInput(f"The sources file {path} must hold a JSON array of {{pageContent, metadata}}.")
    return data


def build_message(
    user_id: str, chat_id: str, kind: str, text: str, source_drafts: list[dict[str, Any]]
) -> Message:
    """A new message with its sources, validated (type, size) before anything is sent."""
    validate_message_type(kind)
    if not text.strip():
        raise InvalidInput("A message cannot be empty.")
    created = now_ms()
    message_id = new_id()
    sources = make_sources(user_id, chat_id, message_id, source_drafts, created)
    message = Message(message_id, chat_id, user_id, kind, text, created).with_sources(sources)
    check_item_size(message.to_item(), "The message")
    for source in sources:
        check_item_size(source.to_item(), f"Source {source.source_id}")
    return message


def messages_add(ctx: Context, args: argparse.Namespace) -> int:
    text = read_text_argument(args.text)
    drafts = read_sources_file(args.sources)
    message = build_message(ctx.user_id, args.chat_id, args.type, text, drafts)
    _require_chat(ctx, args.chat_id)
    ctx.gateway().put_message(message)
    ctx.out(message.as_json(with_sources=True), message.message_id)
    return 0


def messages_delete(ctx: Context, args: argparse.Namespace) -> int:
    gateway = ctx.gateway()
    messages = {m.message_id for m in gateway.list_messages(args.chat_id)}
    if args.message_id not in messages:
        raise NotFound(f"Message {args.message_id} is not in chat {args.chat_id}.")
    deleted_sources = gateway.delete_message(args.message_id)
    ctx.out(
        {"chatId": args.chat_id, "messageId": args.message_id, "deletedSources": deleted_sources},
        f"Deleted message {args.message_id} and {deleted_sources} sources.",
    )
    return 0


def sources_list(ctx: Context, args: argparse.Namespace) -> int:
    sources = [s for s in ctx.gateway().list_sources(args.message_id) if s.chat_id in ("", args.chat_id)]
    ctx.out(
        [s.as_json() for s in sources],
        "\n\n".join(f"[{s.source_id}] {s.location}\n{s.page_content}" for s in sources) or "No sources.",
    )
    return 0


def export(ctx: Context, args: argparse.Namespace) -> int:
    gateway = ctx.gateway()
    chat = _require_chat(ctx, args.chat_id)
    messages = [m.with_sources(tuple(gateway.list_sources(m.message_id))) for m in gateway.list_messages(chat.chat_id)]
    text = export_chat(chat, messages, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8", newline="")
        ctx.info(f"Exported {len(messages)} messages to {args.output}.")
    else:
        ctx.stdout.write(text)
    return 0
