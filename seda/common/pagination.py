"""Cursor pages: `X-Next-Cursor` and `Link: <…?cursor=<id>&limit=N>; rel="next"` (API.md §1)."""

from urllib.parse import urlencode

from flask import request


def page_headers(next_cursor, limit):
    """Headers announcing the next page, or none when this page is the last."""
    if not next_cursor:
        return {}
    params = {k: v for k, v in request.args.items() if k not in ("cursor", "limit")}
    params.update(cursor=next_cursor, limit=limit)
    return {
        "X-Next-Cursor": next_cursor,
        "Link": f'<{request.base_url}?{urlencode(params)}>; rel="next"',
    }


PAGE_HEADERS_DOC = {
    "X-Next-Cursor": {"description": "Cursor of the next page (absent on the last page)", "schema": {"type": "string"}},
    "Link": {"description": 'The next page, rel="next" (absent on the last page)', "schema": {"type": "string"}},
}
