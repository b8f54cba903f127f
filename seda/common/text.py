"""Text compared the way people read it: case and accents ignored (AutoMod's blocked words, search)."""

import unicodedata


def fold(text):
    """Lower case without accents: 'Ünïcode', 'UNICODE' and 'unicode' compare equal."""
    if text.isascii():  # most text: nothing to strip, and no per-character loop
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
