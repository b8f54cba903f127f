"""Text compared the way people read it (AutoMod's blocked words, mentions, search): one fold.

What a reader cannot see does not count: invisible characters (Unicode's Default_Ignorable_Code_Point
and format characters: zero-width space and joiners, soft hyphen, variation selectors, tag
characters, fillers) are dropped, so `b\u200bad` reads as `bad`. Case and accents are ignored.
With a `script`, look-alike letters of other scripts are read as that script's (UTS #39
confusables, from the `confusable_homoglyphs` package's copy of Unicode's confusables.txt):
Cyrillic `а` and Greek `ο` read as Latin `a` and `o` when compared with a Latin word. Search
folds without a script: a Cyrillic query must still find Cyrillic text.
"""

import re
import unicodedata

from confusable_homoglyphs import categories, confusables

LATIN = "LATIN"

# Default_Ignorable_Code_Point (Unicode 15.1, DerivedCoreProperties.txt): the characters a
# renderer draws as nothing when it does not support them.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _invisible_characters():
    ignorable = {code for first, last in _DEFAULT_IGNORABLE for code in range(first, last + 1)}
    # Format characters live in the first three planes and plane 14 (tags) only.
    planes = (*range(0x30000), *range(0xE0000, 0xE1000))
    return ignorable | {code for code in planes if unicodedata.category(chr(code)) == "Cf"}


def _character_class(codes):
    """One regex class of `codes`, as ranges: a search is one C scan (a translate with a table of
    thousands costs a lookup per character, 16 µs on a 300-character message)."""
    ranges, codes = [], sorted(codes)
    start = previous = codes[0]
    for code in codes[1:]:
        if code != previous + 1:
            ranges.append((start, previous))
            start = code
        previous = code
    ranges.append((start, previous))
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


_INVISIBLE = _character_class(_invisible_characters())


def visible(text):
    """`text` without the characters a reader cannot see."""
    return text if text.isascii() else _INVISIBLE.sub("", text)


def look_alikes(text, script):
    """`text` as a reader sees it where only `script`'s letters are expected (e.g. a LATIN
    username): invisible characters dropped, look-alike letters of other scripts replaced."""
    return text if text.isascii() else _INVISIBLE.sub("", text).translate(_LOOK_ALIKES.get(script, {}))


def fold(text, script=None):
    """What a reader sees, lower case and without accents: 'Ünï\u200bcode' and 'UNICODE' compare
    equal; with `script` (e.g. LATIN), look-alike letters of other scripts read as that script's."""
    if text.isascii():  # most text: nothing invisible, no accent, no look-alike
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", _INVISIBLE.sub("", text).casefold())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    if script is None or folded.isascii():
        return folded
    return folded.translate(_LOOK_ALIKES.get(script, {})).lower()


def script_of(word):
    """The script (UTS #39 alias: LATIN, CYRILLIC, GREEK…) of the first letter of `word` that
    has one; LATIN when none does."""
    for character in word:
        if character.isalpha():
            alias = categories.alias(character)
            if alias not in ("COMMON", "INHERITED"):
                return alias
    return LATIN


def _look_alike_tables():
    """{script: {code point: a letter of that script}}: every letter of another script that
    Unicode lists as confusable with one of the script's (a plain ASCII letter preferred where
    there is one). Built once, at import (~16 ms): fixed data, nothing to keep up to date."""
    tables = {}
    for character, homoglyphs in confusables.confusables_data.items():
        if len(character) != 1 or not character.isalpha():
            continue
        own = categories.alias(character)
        for letter in (h["c"] for h in homoglyphs if len(h["c"]) == 1):
            script = categories.alias(letter)
            table = tables.setdefault(script, {})
            chosen = table.get(ord(character))
            if script != own and (chosen is None or _preference(letter) < _preference(chosen)):
                table[ord(character)] = letter
    return tables


def _preference(letter):
    return not letter.isascii(), not letter.islower(), letter


_LOOK_ALIKES = _look_alike_tables()
