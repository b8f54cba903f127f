"""What AutoMod remembers of each member of a room, and how a send adds to it: the memory's
shape is this module's alone (with chat/automod.py, its one reader).

The memory travels with the membership row, which every send reads and whose statement writes
it (chat/room_writes.py): shared by every process, no round trip of its own. The store merges
the sends of one batch with remember(), and the kept senders (chat/senders.py) follow their own
sends with it; neither knows what is inside. A new rule that remembers something per member
adds a key here and its check in chat/automod.py.
"""

from dataclasses import dataclass

RECENT_TEXTS_KEPT = 2


@dataclass(frozen=True, slots=True)
class Remembered:
    """What a send adds to its member's memory (`added`), and the memory its check read (`read`)."""

    read: dict | None
    added: dict


def remember(memory, added):
    """The member's memory once a send that added `added` is stored after `memory`."""
    return {"texts": [*(memory or {}).get("texts", ()), *added["texts"]][-RECENT_TEXTS_KEPT:]}


def recent_texts(memory, since):
    """[[unix time, folded text], ...] of the member's last stored messages in the room, since
    `since` (a unix time)."""
    return [entry for entry in (memory or {}).get("texts", ()) if entry[0] > since]
