"""How local-first commands use the network: best effort, never required.

Reads come from the mirror after a sync when one is possible; writes are committed
locally first and pushed at once when online. ``--offline`` never touches the network.
"""

from __future__ import annotations

import logging
from typing import Any

from ..data.errors import CredentialsError, EndpointUnreachable, GalileioError, NotFound, Throttled
from .context import Context

log = logging.getLogger(__name__)


def refresh(ctx: Context, library: Any) -> bool:
    """Sync before reading, when possible; False (with a note on stderr) when not."""
    if ctx.offline:
        return False
    try:
        library.sync()
        return True
    except (EndpointUnreachable, Throttled) as exc:
        ctx.info(f"Offline, showing the local copy: {exc.message}")
    except CredentialsError as exc:
        ctx.info(f"Not signed in, showing the local copy: {exc.message}")
    return False


def require_chat(ctx: Context, library: Any, chat_id: str, *, load_messages: bool = False) -> Any:
    """The chat's view; fetched from the server first when it is not in the mirror yet."""
    view = library.get_chat(chat_id)
    if view is None and refresh(ctx, library):
        view = library.get_chat(chat_id)
    if view is None:
        raise NotFound(f"Chat {chat_id} does not exist.")
    if load_messages and not ctx.offline:
        try:
            library.open_chat(chat_id)
            library.fetch_sources(chat_id)  # the commands that load messages show sources
        except (EndpointUnreachable, Throttled, CredentialsError) as exc:
            ctx.info(f"Showing the local copy: {exc.message}")
    return view


def push_now(ctx: Context, library: Any, progress_label: str | None = None) -> bool:
    """Push what is queued; True when something is still pending afterwards.

    An operation DynamoDB refused for good is parked; that is reported as an error.
    """
    if ctx.offline:
        return True
    try:
        result = library.push(retry_now=True)
    except (EndpointUnreachable, Throttled, CredentialsError) as exc:
        ctx.info(f"Saved locally; will be sent later ({exc.message})")
        return True
    if result.failure is not None:
        ctx.info(f"Saved locally; will be sent later ({result.failure.message})")
    status = library.status()
    parked = status.parked_operations
    if parked:
        raise GalileioError(
            "DynamoDB refused a change for good: "
            + "; ".join(f"{op.kind} on chat {op.chat_id}: {op.error}" for op in parked)
            + ". See 'galileio-desktop status'."
        )
    return bool(status.pending)
