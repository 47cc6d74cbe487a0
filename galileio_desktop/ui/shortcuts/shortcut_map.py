"""Every keyboard shortcut of a window, read from its actions, and where each one works.

The list the user sees (Help → Keyboard shortcuts) is made from the ``QAction``
objects themselves: the window's, its menus', and those of every widget and dialog in
it. A key handled any other way would be missing from it, so keys are actions.

:func:`conflicts` says which keys would be ambiguous: two enabled actions with the same
key that Qt would both consider for the same focused widget.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

#: The place of actions that work anywhere in the window.
WINDOW = "Anywhere"

_WIDE = (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut)


#: The dynamic property that holds a widget's own keys (see :func:`register_keys`).
KEYS_PROPERTY = "galileioKeys"


@dataclass(frozen=True)
class Shortcut:
    """One action (or a key a widget handles itself, ``action`` None) with its keys, as listed."""

    action: QAction | None
    name: str
    keys: tuple[str, ...]
    place: str


def register_keys(widget: QWidget, keys: list[tuple[str, str]]) -> None:
    """Name the keys ``widget`` handles in its own ``keyPressEvent`` ((key, what it does),
    e.g. ``("Shift+Return", "Previous match")``), beside the code that handles them, so
    the shortcuts list shows them too. Use an action instead wherever one can do."""
    widget.setProperty(KEYS_PROPERTY, [f"{key}\t{name}" for key, name in keys])


def plain_text(text: str) -> str:
    """A menu text as read: no "&" mnemonic marks (a doubled one is a real "&"), no "…"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…").strip()


def window_actions(window: QWidget) -> list[QAction]:
    """Every action of ``window`` that a key can reach: owned by it or any child, or added
    to any of its widgets, and added to some widget or menu (one added nowhere is inert)."""
    found: dict[int, QAction] = {}
    for action in window.findChildren(QAction):
        found.setdefault(id(action), action)
    for widget in (window, *window.findChildren(QWidget)):
        for action in QWidget.actions(widget):  # a part may name an attribute "actions"
            found.setdefault(id(action), action)
    return [a for a in found.values() if any(isinstance(o, QWidget) for o in a.associatedObjects())]


def shortcuts(window: QWidget) -> list[Shortcut]:
    """The actions of ``window`` that have a key, by place, then by name."""
    rows = []
    for action in window_actions(window):
        keys = tuple(
            k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts() if not k.isEmpty()
        )
        if not keys:
            continue
        name = plain_text(action.text()) or action.toolTip() or action.objectName()
        rows.append(Shortcut(action, name, keys, place_of(action)))
    for widget in (window, *window.findChildren(QWidget)):
        for entry in widget.property(KEYS_PROPERTY) or []:
            key, _, name = str(entry).partition("\t")
            rows.append(Shortcut(None, name, (key,), _part_name(widget)))
    return sorted(rows, key=lambda row: (row.place != WINDOW, row.place.casefold(), row.name.casefold()))


def place_of(action: QAction) -> str:
    """Where an action's key works, in words: "Anywhere" or the part of the window."""
    if action.shortcutContext() in _WIDE:
        return WINDOW
    for widget in _widgets(action):
        return _part_name(widget)
    return WINDOW


def _widgets(action: QAction) -> Iterator[QWidget]:
    """The widgets (not menus) an action was added to."""
    for obj in action.associatedObjects():
        if isinstance(obj, QWidget) and not isinstance(obj, (QMenu, QMenuBar)):
            yield obj


def _part_name(widget: QWidget) -> str:
    """The nearest accessible name from ``widget`` up to its window: the part it belongs to."""
    here: QWidget | None = widget
    while here is not None:
        name = here.accessibleName()
        if name:
            return name
        if here.isWindow():
            return here.windowTitle() or WINDOW
        here = here.parentWidget()
    return WINDOW


def active_for(action: QAction, focus: QWidget) -> bool:
    """Whether Qt would consider ``action``'s key with ``focus`` focused (its window active).

    Actions found only in a menu count as window-wide when their context is, and
    otherwise not (Qt matches them through the menu bar, which never has focus here).
    """
    context = action.shortcutContext()
    for widget in _widgets(action):
        if context in _WIDE:
            if context == Qt.ShortcutContext.ApplicationShortcut or widget.window() is focus.window():
                return True
        elif context == Qt.ShortcutContext.WidgetShortcut:
            if widget is focus:
                return True
        elif widget is focus or widget.isAncestorOf(focus):
            return True
    if context in _WIDE:
        return any(isinstance(o, (QMenu, QMenuBar)) for o in action.associatedObjects()) and (
            _menu_window(action) is focus.window()
        )
    return False


def _menu_window(action: QAction) -> QWidget | None:
    for obj in action.associatedObjects():
        if isinstance(obj, QMenu):
            for owner in obj.menuAction().associatedObjects():
                if isinstance(owner, QWidget):
                    return owner.window()
        elif isinstance(obj, QMenuBar):
            return obj.window()
    return None


def conflicts(window: QWidget) -> list[str]:
    """Keys two enabled actions would both answer for one focused widget, in words."""
    actions = [a for a in window_actions(window) if a.isEnabled() and a.shortcuts()]
    problems: set[str] = set()
    for focus in (window, *window.findChildren(QWidget)):
        seen: dict[str, QAction] = {}
        for action in actions:
            if not active_for(action, focus):
                continue
            for key in action.shortcuts():
                text = key.toString()
                if not text:
                    continue
                other = seen.setdefault(text, action)
                if other is not action:
                    names = sorted((plain_text(other.text()), plain_text(action.text())))
                    problems.add(f"{text}: {names[0]!r} and {names[1]!r} (in {_part_name(focus)})")
    return sorted(problems)
