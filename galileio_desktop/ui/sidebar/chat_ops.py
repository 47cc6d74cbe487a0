"""The operations the sidebar runs on the library (light: the window asks for the first
screen of chats before its widgets are imported)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..workers.operation import LibraryOp

if TYPE_CHECKING:
    from ...data.mirror.items import ChatCursor
    from ...data.sync import ChatLibrary, ChatView

#: Chats read for the first screen (more than a screen holds); the rest follow.
FIRST_SCREEN_CHATS = 100
#: Chats in a page of the whole list: one read of the library's lane each (about 45 ms
#: alone, 55-90 ms beside a busy GUI thread), so a chat opened while 100,000 chats are
#: read waits for a page, not for the 2-4 s of all of them.
LIST_PAGE_CHATS = 2000


def first_screen_op() -> LibraryOp[list[ChatView]]:
    """The most recently active chats, a screenful: read and decoded without the rest."""
    return LibraryOp(lambda lib: lib.list_chats(limit=FIRST_SCREEN_CHATS), name="first screen of chats")


def all_chats_op() -> LibraryOp[list[ChatView]]:
    """The whole list in one read (the window reads it a page at a time: :func:`chats_page_op`)."""
    return LibraryOp(lambda lib: lib.list_chats(), name="list chats")


def chats_page_op(after: ChatCursor | None) -> LibraryOp[tuple[list[ChatView], ChatCursor | None]]:
    """A page of the whole list, newest first, after ``after`` (see ``list_chats_page``)."""
    return LibraryOp(lambda lib: lib.list_chats_page(after, LIST_PAGE_CHATS), name="page of chats")


def chats_by_id_op(chat_ids: list[str]) -> LibraryOp[list[ChatView]]:
    """The chats of ``chat_ids`` that are listed now (a chat gone is left out)."""
    return LibraryOp(
        lambda lib: [v for cid in chat_ids if (v := lib.get_chat(cid)) is not None], name="chats by id"
    )


def create_chat_op() -> LibraryOp[ChatView | None]:
    """A new chat with the default title; the result is its view as listed."""
    return LibraryOp(_create_chat, name="create chat").after_write()


def _create_chat(library: ChatLibrary) -> ChatView | None:
    return library.get_chat(library.create_chat().chat_id)
