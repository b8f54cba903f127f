"""Does a fetched page carry the claim code where its owner put it on purpose?

Passes when the code appears as a whole token, case-insensitively, in the visible text, or in
`<meta name="seda-verification" content="…">`. Comments, scripts, styles, templates and
attributes do not count: anyone can get text into those on pages they do not control.
"""

import re

from bs4 import BeautifulSoup, Comment

INVISIBLE = ("script", "style", "noscript", "template", "head", "title")
EXCERPT_RADIUS = 80


def code_pattern(code):
    return re.compile(rf"(?<![A-Za-z0-9-]){re.escape(code)}(?![A-Za-z0-9-])", re.IGNORECASE)


def find_on_page(status, content_type, text, code):
    """The one rule for a fetched page (verification checks and admin crawls alike): a 2xx HTML
    page is searched by find_in_html, a 2xx plain-text one by find_in_text, anything else never.
    Returns (method, excerpt) or None."""
    kind = content_type.split(";")[0].strip().lower()
    if not 200 <= status < 300 or kind not in ("", "text/html", "application/xhtml+xml", "text/plain"):
        return None
    return find_in_text(text, code) if kind == "text/plain" else find_in_html(text, code)


def find_in_html(html, code):
    """Return ("META" | "TEXT", excerpt) or None."""
    soup = BeautifulSoup(html, "lxml")
    pattern = code_pattern(code)
    for meta in soup.find_all("meta", attrs={"name": re.compile(r"^seda-verification$", re.I)}):
        if pattern.search(meta.get("content") or ""):
            return "META", f'<meta name="seda-verification" content="{meta.get("content")}">'
    for element in soup.find_all(INVISIBLE):
        element.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    text = " ".join(soup.get_text(" ").split())
    match = pattern.search(text)
    if match is None:
        return None
    start, end = max(0, match.start() - EXCERPT_RADIUS), match.end() + EXCERPT_RADIUS
    return "TEXT", text[start:end]


def find_in_text(body, code):
    """The well-known file is plain text: the code as a token anywhere in it."""
    match = code_pattern(code).search(body)
    return (
        ("WELL_KNOWN", body[max(0, match.start() - EXCERPT_RADIUS) : match.end() + EXCERPT_RADIUS]) if match else None
    )
