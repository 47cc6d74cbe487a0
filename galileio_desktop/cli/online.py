"""How local-first commands use the network: best effort, never required.

Reads come from the mirror after a sync when one is possible; writes are committed
locally first and pushed at once when online. ``--offline`` never touches the network.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..data.errors import (
    ChangeRefused,
    CredentialsError,
    DamagedInstallation,
    EndpointUnreachable,
    NotFound,
    SyncBusy,
    Throttled,
)
from .context import Context
from .terminal import one_line

log = logging.getLogger(__name__)


def refresh(ctx: Context, library: Any) -> bool:
    """Sync before reading, when possible; False (with a note on stderr) when not."""
    if ctx.offline:
        return False
    try:
        library.sync()
        return True
    except DamagedInstallation as exc:
        ctx.info(f"Showing the local copy: {exc.message}")
    except (EndpointUnreachable, Throttled) as exc:
        ctx.info(f"Offline, showing the local copy: {exc.message}")
    except SyncBusy as exc:
        ctx.info(f"Showing the local copy: {exc.message}")
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


#: Which queued operations a command made (the ones whose outcome it reports).
Mine = Callable[[Any], bool]


def push_now(ctx: Context, library: Any, mine: Mine) -> bool:
    """Push what is queued; True when this command's change is still to be sent.

    The command reports its own outcome only: its change refused for good raises
    :class:`ChangeRefused` (exit 6); a change refused earlier, by another command, is a
    note on stderr and changes nothing here (a script must not retry, and duplicate, a
    write that was made).
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
    elif result.busy:
        ctx.info("Saved locally; another window or command is sending this account's changes right now.")
    status = library.status()
    refused = [op for op in status.parked_operations if mine(op)]
    if refused:
        raise ChangeRefused(
            "DynamoDB refused this change for good: "
            + "; ".join(one_line(op.error or op.kind) for op in refused)
            + " It is kept: see 'galileio-desktop changes list' to retry or discard it."
        )
    others = [op for op in status.parked_operations if not mine(op)]
    if others:
        ctx.info(f"Note: {len(others)} earlier change(s) were refused; see 'galileio-desktop changes list'.")
    return any(mine(op) for op in status.operations)


def of_chat(chat_id: str, *kinds: str) -> Mine:
    """The operations of kinds ``kinds`` on chat ``chat_id``."""
    return lambda op: op.chat_id == chat_id and op.kind in kinds


def of_message(message_id: str, *kinds: str) -> Mine:
    return lambda op: op.message_id == message_id and op.kind in kinds
