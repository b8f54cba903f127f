"""The cost of AutoMod's check on the send path (#20), in process: a room without rules, and a
room with 200 blocked words, MUSIC_ONLY links and a mention cap, on a 300-character message
with a music link (the text passes, so every rule runs to the end). `blockRepeats` is left out:
it costs one cache round trip (Redis in production), measured by `chat_sockets.py --only automod`.

The same check on a text that is not ASCII (accents, Cyrillic, an emoji with a variation
selector: every step of the fold runs), beside the fold it replaced (case and accents only,
measured in the same run): what reading text as a reader sees it adds to a send (#35, ≤ 0.1 ms).

    .venv/bin/python bench/automod_check.py [--runs 20000]
"""

import argparse
import sys
import time
import unicodedata
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from seda.chat import automod  # noqa: E402
from seda.chat.models import MemberRole  # noqa: E402
from seda.common.text import fold  # noqa: E402
from seda.users.models import Role  # noqa: E402

TEXT = ("Tonight's set was unreal, thank you all for coming out. " * 5)[:260] + (
    " https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
)
UNICODE_TEXT = ("Ce soir, le set était incroyable ❤️ спасибо всем, Müller & Søren. " * 5)[:260] + (
    " https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC"
)
RULES = {
    "blockedWords": [f"blockedword{n}" for n in range(200)],
    "linkPolicy": "MUSIC_ONLY",
    "maxMentions": 5,
    "blockRepeats": False,
    "autoMuteAfter": 0,
}


def per_check_us(room, runs, text=TEXT):
    user = SimpleNamespace(id="u", role=Role.USER)
    membership = SimpleNamespace(role=MemberRole.MEMBER)
    automod.check(user, room, membership, text, [])  # builds and caches the word pattern
    start = time.perf_counter()
    for _ in range(runs):
        automod.check(user, room, membership, text, [])
    return (time.perf_counter() - start) / runs * 1e6


def case_and_accents_only(text):
    """The fold before #35 (seda/common/text.py at 44285e9), the baseline."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def per_fold_us(folding, runs):
    start = time.perf_counter()
    for _ in range(runs):
        folding(UNICODE_TEXT)
    return (time.perf_counter() - start) / runs * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20000)
    args = parser.parse_args()
    off = per_check_us(SimpleNamespace(id="r", automod=None), args.runs)
    on = per_check_us(SimpleNamespace(id="r", automod=RULES), args.runs)
    print(f"AutoMod check, {len(TEXT)}-character message, {args.runs:,} runs each:")
    print(f"  rules off:                                  {off:.2f} µs (target: microseconds)")
    print(f"  200 blocked words + MUSIC_ONLY + mention cap: {on:.1f} µs (target < 200 µs)")
    unicode_on = per_check_us(SimpleNamespace(id="r", automod=RULES), args.runs, UNICODE_TEXT)
    before = per_fold_us(case_and_accents_only, args.runs)
    after = per_fold_us(lambda text: fold(text, "LATIN"), args.runs)
    print(f"The same rules on a {len(UNICODE_TEXT)}-character text that is not ASCII: {unicode_on:.1f} µs")
    print(f"  its fold: case and accents only (the baseline) {before:.1f} µs, as a reader sees it {after:.1f} µs")
    print(f"  what reading as a reader sees adds to a send: {after - before:.1f} µs (target ≤ 100 µs)")


if __name__ == "__main__":
    main()
