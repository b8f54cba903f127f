"""What a search matches (API.md section 9): words, with case and accents ignored, the last one
as a prefix; and the highlight that marks them in a message's text.

Both databases see the same words: a word is a run of letters and digits (`_` and every other
character separate words), which is how SQLite's FTS5 `unicode61` tokenizer reads text, and how
PostgreSQL's parser reads it once the search document has its punctuation turned into spaces.
The words of `q` go into the database's query language from here only, each one quoted, so a
user's `&`, `|`, `!`, `:*`, `"` or `(` is never an operator: it separates words like any other
punctuation."""

import html
import re

from seda.common.text import fold

WORD = re.compile(r"[^\W_]+")
MAX_WORDS = 20


class SearchTerms:
    """The words of a query, folded: `whole` must occur as they are, `prefix` (the last word
    typed) as the start of a word."""

    def __init__(self, q):
        # Folded whole, then split: an invisible character inside a word does not split it, and
        # NFKD can turn one letter into several characters.
        folded = WORD.findall(fold(q))
        self.prefix = folded[-1] if folded else None
        whole = dict.fromkeys(word for word in folded[:-1] if word != self.prefix)
        self.whole = list(whole)

    def __len__(self):
        return len(self.whole) + (self.prefix is not None)

    def tsquery(self):
        """PostgreSQL: `'word' & 'word':*` (words hold no quote or backslash)."""
        return " & ".join([*(f"'{word}'" for word in self.whole), f"'{self.prefix}':*"])

    def fts5_query(self):
        """SQLite FTS5: `"word" "word"*`, an implicit AND (words hold no double quote)."""
        return " ".join([*(f'"{word}"' for word in self.whole), f'"{self.prefix}"*'])

    def matches(self, word):
        """True when a word of a text is one of the query's (the last one by prefix)."""
        folded = fold(word)
        return folded in self.whole or folded.startswith(self.prefix)

    def all_in(self, text):
        """True when every query word occurs in `text`."""
        folded = [fold(word) for word in WORD.findall(text or "")]
        return all(word in folded for word in self.whole) and any(word.startswith(self.prefix) for word in folded)


def highlight(text, terms):
    """`text` HTML-escaped, each word that matches `terms` wrapped in <mark>…</mark>."""
    parts, start = [], 0
    for found in WORD.finditer(text):
        if terms.matches(found.group()):
            parts.append(html.escape(text[start : found.start()]))
            parts.append(f"<mark>{html.escape(found.group())}</mark>")
            start = found.end()
    parts.append(html.escape(text[start:]))
    return "".join(parts)
