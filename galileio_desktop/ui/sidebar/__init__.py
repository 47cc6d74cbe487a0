"""The sidebar: the chat list, its filter, New chat, rename in place, delete with Undo."""
