"""Input every client may send, checked once for what no route or event can store or echo.

Python's json accepts lone surrogates ("\\ud800"), which no database or UTF-8 response can
carry, and NUL, which PostgreSQL refuses; deep nesting only exists to exhaust the stack. REST
bodies (seda.common.api) and socket payloads (seda.realtime.runtime) both pass through here.
"""

MAX_DEPTH = 32


def unstorable(value):
    """The (path, reason) of the first part of parsed JSON `value` that cannot be stored, else None."""
    pending = [(value, "", 1)]
    while pending:
        item, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            return path, f"Nested deeper than {MAX_DEPTH} levels."
        if isinstance(item, str):
            reason = text_problem(item)
            if reason:
                return path, reason
        elif isinstance(item, dict):
            for key, child in item.items():
                reason = text_problem(key) if isinstance(key, str) else None
                if reason:
                    return path, reason
                pending.append((child, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list):
            pending.extend(
                (child, f"{path}.{index}" if path else str(index), depth + 1) for index, child in enumerate(item)
            )
    return None


def text_problem(text):
    """Why `text` cannot be stored, or None."""
    if "\x00" in text:
        return "NUL characters are not allowed."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Invalid Unicode (a lone surrogate) is not allowed."
    return None
