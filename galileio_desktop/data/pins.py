"""Pinned chats: one attribute of ours on the web app's chat item, and how it is written.

**The attribute.** ``pinnedAt``, a Number: when the user pinned the chat, in epoch
milliseconds. A pinned chat has it; an unpinned one does not (an unpin removes it). A
time rather than a boolean, so that two devices changing the same pin resolve it by
which change was made last (below), and so that a replayed pin can be recognised.

**The web app keeps it.** Its rename (``updateChat`` in galileo-sdk's
``chat/dynamodb/lib/chat.ts``) is an UpdateItem with ``set title = :title`` under
``attribute_exists(PK) and attribute_exists(SK)``: it changes the title and nothing
else, so ``pinnedAt`` survives a rename made in the browser. Its chat list maps each
item to ``chatId``, ``title``, ``userId`` and ``createdAt`` and ignores the rest, so a
pinned chat reads there as before. No other web app write touches a chat item but
create (a PutItem of a new id) and delete.

**Reading it.** Absence means "not pinned", so items written by the web app or by
earlier releases read as they always did. Any other value another writer may store
there (a string, a map, a negative or out-of-range number) also reads as "not
pinned", is kept as it is, and is replaced only when the user pins or unpins.

**Writing it.** One UpdateItem that sets or removes ``pinnedAt`` and nothing else
(never ``title`` or ``createdAt``), on the condition that the chat exists (a pin never
brings back a deleted chat) and that the item holds no pin time later than this
change's own. So:

- a pin made after an unpin made elsewhere wins over it, whichever reaches DynamoDB
  first: the earlier unpin finds a later pin and leaves it;
- a replayed pin (its answer lost) finds its own time and changes nothing;
- an unpin leaves no time on the item, so a pin made offline *before* it and sent
  *after* it pins the chat again. Keeping a second attribute for unpins would settle
  that case too; one attribute kept the item's shape smaller, and a pin is easy to undo.

When the condition fails the pusher reads the chat (consistent read): gone means the
delete wins and the change is dropped; present means a later pin won, and the mirror
takes the item as DynamoDB holds it. Device clocks decide "later"; a clock minutes off
only matters for two changes of one pin made minutes apart on two devices.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .timestamps import LATEST_MS, is_known, parse_ms

PINNED_AT = "pinnedAt"


def pin_time(value: Any) -> int | None:
    """When a chat was pinned, from its typed ``pinnedAt`` value; None: not pinned.

    Only a Number holding a time after 1970 and before year 10000 is a pin.
    """
    if not isinstance(value, dict) or len(value) != 1 or "N" not in value:
        return None
    ms = parse_ms(value["N"])
    return ms if ms is not None and ms > 0 and is_known(ms) else None


class PinChange(NamedTuple):
    """A pin or unpin the user made at ``at`` (epoch ms): an outbox row's payload.

    A named tuple, not a frozen dataclass: every start imports this module (see
    :class:`~galileio_desktop.data.mirror.codec.ItemKey`).
    """

    pinned: bool
    at: int

    def payload(self) -> dict[str, Any]:
        return {"pinned": self.pinned, "at": self.at}

    @classmethod
    def from_payload(cls, payload: Any) -> PinChange:
        """The change of a stored payload; ValueError when it is not one (a damaged row)."""
        if not isinstance(payload, dict):
            raise ValueError("a pin change must be an object")
        pinned, at = payload.get("pinned"), payload.get("at")
        if not isinstance(pinned, bool) or not isinstance(at, int) or isinstance(at, bool) or at <= 0:
            raise ValueError("a pin change needs 'pinned' (true or false) and 'at' (a time)")
        return cls(pinned, at)

    def update_request(self) -> dict[str, Any]:
        """The UpdateItem parameters (without table and key) that make this change."""
        return {
            "UpdateExpression": "SET #pinnedAt = :at" if self.pinned else "REMOVE #pinnedAt",
            # A stored pin counts only when it is a Number within the times we write:
            # anything else (a string, a map, year 10000) is replaced, never obeyed.
            "ConditionExpression": (
                "attribute_exists(PK) AND (attribute_not_exists(#pinnedAt) "
                "OR NOT attribute_type(#pinnedAt, :number) OR #pinnedAt < :at OR #pinnedAt > :latest)"
            ),
            "ExpressionAttributeNames": {"#pinnedAt": PINNED_AT},
            "ExpressionAttributeValues": {
                ":at": {"N": str(self.at)},
                ":number": {"S": "N"},
                ":latest": {"N": str(LATEST_MS)},
            },
        }

    def settled_by(self, item: Any) -> bool:
        """Whether ``item`` (the chat as DynamoDB holds it) already says what this change
        says, or a later pin overrides it: nothing is left to write."""
        if not isinstance(item, dict):
            return False
        stored = pin_time(item.get(PINNED_AT))
        if stored is not None and stored >= self.at:
            return True
        return not self.pinned and stored is None
