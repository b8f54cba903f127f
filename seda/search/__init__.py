"""Search (API.md section 9): messages and track cards, full-text, only where the caller may read."""
