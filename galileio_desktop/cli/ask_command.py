"""``ask CHAT_ID QUESTION``: stream an answer with sources and store both messages."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from ..data.errors import InvalidInput
from .context import Context, read_text_argument
from .online import push_now, require_chat
from .terminal import one_line, printable

BACKENDS = ("galileo", "bedrock-kb", "bedrock", "openai", "local-docs")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ask", help="ask the assistant in a chat (QUESTION '-' reads standard input)")
    p.add_argument("chat_id")
    p.add_argument("question")
    p.add_argument("--backend", choices=BACKENDS, help="use this backend for this call only")
    p.add_argument("--docs", metavar="DIR", help="documents folder (local-docs)")
    p.add_argument("--url", help="endpoint URL (galileo, openai)")
    p.add_argument("--model", help="model id (bedrock, openai)")
    p.add_argument("--knowledge-base-id", help="knowledge base id (bedrock-kb)")
    p.add_argument("--model-arn", help="model ARN (bedrock-kb)")
    p.add_argument("--history", type=int, metavar="N", help="send at most N earlier messages")
    p.set_defaults(func=ask_command)


def _override(args: argparse.Namespace) -> dict[str, Any] | None:
    values = {
        "backend": args.backend,
        "docs_dir": args.docs,
        "url": args.url,
        "model": args.model,
        "knowledge_base_id": args.knowledge_base_id,
        "model_arn": args.model_arn,
    }
    if not any(values.values()):
        return None
    if args.docs and not args.backend:
        values["backend"] = "local-docs"
    return values


def ask_command(ctx: Context, args: argparse.Namespace) -> int:
    from ..data.ask import ask

    question = read_text_argument(args.question)
    if not question.strip():
        raise InvalidInput("The question is empty.")
    workspace = ctx.workspace()
    workspace.assistant_override = _override(args)
    library = ctx.library()
    require_chat(ctx, library, args.chat_id, load_messages=True)
    assistant = workspace.make_assistant()
    history = args.history if args.history is not None else workspace.history_limit
    cancel = threading.Event()
    outcome: dict[str, Any] = {}

    def on_text(piece: str) -> None:
        if not ctx.json:
            ctx.stdout.write(printable(piece))
            ctx.stdout.flush()

    def work() -> None:
        try:
            outcome["result"] = ask(
                library,
                assistant,
                args.chat_id,
                question,
                on_text=on_text,
                cancel=cancel,
                history_limit=history,
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            outcome["error"] = exc

    thread = threading.Thread(target=work, name="ask", daemon=True)
    # The deadline is for DynamoDB: an answer may stream for minutes (the assistant's
    # own connection has its timeouts); the count starts again for storing it.
    ctx.deadline.pause()
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.2)
    except KeyboardInterrupt:
        cancel.set()  # Ctrl+C stops the answer; what arrived so far is kept, marked stopped
        ctx.info("\nStopping…")
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    ctx.deadline.restart()
    written = {m.message_id for m in (result.question, result.answer) if m is not None}
    pending = push_now(
        ctx,
        library,
        lambda op: op.message_id in written or (op.chat_id == args.chat_id and op.kind == "rename_chat"),
    )
    if ctx.json:
        ctx.out({**result.as_json(), "pending": pending})
    else:
        ctx.stdout.write("\n")
        if result.stopped:
            ctx.info("(stopped: the partial answer was kept)")
        for number, source in enumerate(result.sources, start=1):
            ctx.stdout.write(f"[{number}] {one_line(source.location) or '(no location)'}\n")
        ctx.stdout.flush()
    return 0
