"""AutoMod (API.md section 11): a room's rules, checked on every send and edit before anything is
stored, and the auto-mute of repeat offenders.

The rules travel with the room's row (`rooms.automod`), which every send loads anyway: no extra
query, and a change is seen by every process at once. What is costly to build from them (the
blocked-word pattern) is cached per distinct word list; a room without rules costs one check.
"""

import re
import time
from datetime import timedelta

from publicsuffixlist import PublicSuffixList

from seda.chat import notify
from seda.chat.access import is_moderator, member_room, moderated_room
from seda.chat.automod_memory import RECENT_TEXTS_KEPT, Remembered, recent_texts
from seda.chat.members import apply_mute
from seda.chat.models import RoomType
from seda.common import audit
from seda.common.db import iso_utc, utcnow
from seda.common.errors import Forbidden, Unprocessable
from seda.common.kept import VersionedCache
from seda.common.text import fold, script_of, visible
from seda.extensions import cache, db
from seda.tracks.providers import recognise

DEFAULTS = {"blockedWords": [], "linkPolicy": "ANY", "maxMentions": 0, "blockRepeats": False, "autoMuteAfter": 0}
REPEAT_WINDOW_SECONDS = 60
REPEATS_REFUSED_AT = RECENT_TEXTS_KEPT + 1  # the third identical text within the window
REFUSAL_WINDOW_SECONDS = 600
AUTO_MUTE = timedelta(minutes=10)
LINK = re.compile(r"https?://[^\s<>\"')\]]+|(?<![\w.@/])www\.[^\s<>\"')\]]+", re.IGNORECASE)
# A bare host name (`shop.co.uk`, `evil.example/path`): dot-separated labels of letters, digits and
# hyphens (any script), not part of an address (`@`) or of a longer path, with what follows it.
BARE_HOST = re.compile(r"(?<![\w.@/:-])((?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_][\w-]*[^\W_])(/[^\s<>\"')\]]*)?")
DOT_THEN_LETTER = re.compile(r"\.[^\W\d_]")
_public_suffixes = PublicSuffixList()  # the list the publicsuffixlist release ships (no download)


def get_settings(user, room_id):
    """The room's AutoMod settings (members and admins)."""
    room, _membership = member_room(user, room_id)
    return {**DEFAULTS, **(room.automod or {})}


def put_settings(user, room_id, settings, admin=None):
    """Replace the room's settings (owner, moderator or admin; `admin`: the audit Actor)."""
    room, _membership = moderated_room(user, room_id)
    if room.type == RoomType.DIRECT:
        raise Forbidden("Direct conversations cannot be changed")
    settings = {**settings, "blockedWords": list(dict.fromkeys(settings["blockedWords"]))}
    room.automod = settings if settings != DEFAULTS else None  # all off: senders skip the check
    if admin is not None:
        audit.record(admin, "room.automod", "room", room.id, settings)
    db.session.commit()
    return settings


# A room's blocked words are its version: a changed list is another key, never a stale pattern.
_PATTERNS = VersionedCache("automod patterns", max_items=1024, max_age=None)


def _blocked_words_patterns(words):
    """One pattern per script of a room's list (nearly always one): the text is folded to that
    script (look-alike letters read as its own) and scanned once, however many words."""
    patterns = _PATTERNS.get(words, words)
    if patterns is None:
        patterns = _PATTERNS.put(words, words, _compiled_patterns(words))
    return patterns


def _compiled_patterns(words):
    by_script = {}
    for word in words:
        script = script_of(word)
        by_script.setdefault(script, set()).add(fold(word, script))
    return tuple((script, _whole_words(folded)) for script, folded in by_script.items())


def _whole_words(words):
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _has_blocked_word(words, text):
    return any(pattern.search(fold(text, script)) for script, pattern in _blocked_words_patterns(tuple(words)))


def check(user, room, membership, text, mentions, editing=False):
    """Refuse (422) a text that breaks one of the room's rules; moderators and admins are exempt.

    `mentions`: the distinct members the text mentions. Each refusal counts toward the auto-mute.
    Returns what the send adds to the member's memory (a Remembered) when a rule of the room
    remembers something of its members, else None (the memory stays as it is)."""
    rules = room.automod
    if not rules or is_moderator(user, membership):
        return None
    rules = {**DEFAULTS, **rules}
    recent = (
        recent_texts(membership.automod_memory, since=time.time() - REPEAT_WINDOW_SECONDS)
        if rules["blockRepeats"] and not editing
        else None
    )
    broken = _first_broken_rule(rules, text, mentions, recent)
    if broken is None:
        if recent is None:
            return None
        return Remembered(membership.automod_memory, {"texts": [[time.time(), _repeat_text(text)]]})
    _count_refusal(room, user.id, rules["autoMuteAfter"])
    raise Unprocessable(f"Blocked by room rules: {broken}")


def _first_broken_rule(rules, text, mentions, recent):
    if rules["blockedWords"] and _has_blocked_word(rules["blockedWords"], text):
        return "blocked word"
    if rules["linkPolicy"] != "ANY" and not _links_allowed(text, rules["linkPolicy"]):
        return "link not allowed"
    if rules["maxMentions"] and len(mentions) > rules["maxMentions"]:
        return "too many mentions"
    if recent is not None and _is_third_repeat(recent, text):
        return "repeated message"
    return None


def _links_allowed(text, policy):
    for link in _links(visible(text)):
        if policy == "NONE" or recognise(link if "://" in link else f"https://{link}") is None:
            return False
    return True


def _links(text):
    """The links in `text`: http(s) URLs, `www.` hosts, and bare host names that end in a public
    suffix (any host name, when a path follows it: `evil.example/path`)."""
    for match in LINK.finditer(text):
        yield match.group(0).rstrip(".,;:!?")
    if not DOT_THEN_LETTER.search(text):  # most text: no host name at all, and no scan for one
        return
    for match in BARE_HOST.finditer(LINK.sub(" ", text)):
        host, path = match.group(1), match.group(2)
        if path or _public_suffixes.publicsuffix(host.lower(), accept_unknown=False) is not None:
            yield (host + (path or "")).rstrip(".,;:!?")


def _repeat_text(text):
    return text.strip().casefold()


def _is_third_repeat(recent, text):
    """The user's two previous stored messages in the room, within 60 s, had this very text."""
    wanted = _repeat_text(text)
    if not wanted:
        return False
    return len(recent) >= REPEATS_REFUSED_AT - 1 and all(said == wanted for _at, said in recent)


def _count_refusal(room, user_id, mute_after):
    """The `mute_after`-th refusal within 10 minutes mutes the user for 10 minutes."""
    if not mute_after:
        return
    key, now = f"automod:refusals:{room.id}:{user_id}", time.time()
    recent = [at for at in cache.get(key) or [] if at > now - REFUSAL_WINDOW_SECONDS] + [now]
    if len(recent) < mute_after:
        cache.set(key, recent, timeout=REFUSAL_WINDOW_SECONDS)
        return
    cache.delete(key)
    mute = apply_mute(room.id, user_id, utcnow() + AUTO_MUTE, "AutoMod", muted_by=None, keep_longer=True)
    notify.user_muted(room.id, user_id, iso_utc(mute.muted_until))
