"""The operations the sidebar runs on the library (light: the window asks for the first
screen of chats before its widgets are imported)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.sync import ChatLibrary, ChatView

#: Chats read for the first screen (more than a screen holds); the rest follow.
FIRST_SCREEN_CHATS = 100


def first_screen_op() -> LibraryOp[list[ChatView]]:
    """The most recently active chats, a screenful: read and decoded without the rest."""
    return LibraryOp(lambda lib: lib.list_chats(limit=FIRST_SCREEN_CHATS), name="first screen of chats")


def all_chats_op() -> LibraryOp[list[ChatView]]:
    return LibraryOp(lambda lib: lib.list_chats(), name="list chats")


def create_chat_op() -> LibraryOp[ChatView | None]:
    """A new chat with the default title; the result is its view as listed."""
    return LibraryOp(_create_chat, name="create chat").after_write()


def _create_chat(library: ChatLibrary) -> ChatView | None:
    return library.get_chat(library.create_chat().chat_id)
