"""Cursor pages: `X-Next-Cursor` and `Link: <…?cursor=<id>&limit=N>; rel="next"` (API.md §1)."""

import json
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, request

from seda.common.db import parse_uuid
from seda.common.errors import ValidationFailed
from seda.extensions import db


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


def paged(result, limit):
    """A route's answer for a service's (items, next cursor): 200 with the paging headers."""
    items, next_cursor = result
    return items, 200, page_headers(next_cursor, limit)


def payload_page(result, limit):
    """`paged` for items that are already payloads of the documented shape: dumped as they are,
    without the route's schema (a hot read path: a schema dump cost ~15 ms a page)."""
    items, next_cursor = result
    body = json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    return Response(body, 200, page_headers(next_cursor, limit), mimetype="application/json")


def encoded_page(body, next_cursor, limit, etag):
    """A page already encoded as a JSON array, with its ETag: a request whose `If-None-Match`
    names it is answered 304 without the body."""
    response = Response(body, 200, page_headers(next_cursor, limit), mimetype="application/json")
    response.set_etag(etag)
    return response.make_conditional(request)


PAGE_HEADERS_DOC = {
    "X-Next-Cursor": {"description": "Cursor of the next page (absent on the last page)", "schema": {"type": "string"}},
    "Link": {"description": 'The next page, rel="next" (absent on the last page)', "schema": {"type": "string"}},
}


def keyset_page(query, order, id_column, cursor, limit, descending=True, anchor_where=(), cursor_of=None):
    """Run `query` one page at a time, ordered by `order` columns then `id_column`.

    `cursor` is the `id_column` value of the last item of the previous page (found among rows
    matching `anchor_where`); returns (items, next cursor). Items are entities when the query
    selects one, else rows; `cursor_of(item)` gives an item's cursor (default: `item.id`).
    """
    columns = (*order, id_column)
    cursor_of = cursor_of or (lambda item: item.id)
    if cursor is not None:
        cursor_id = parse_uuid(cursor)
        anchor = (
            db.session.execute(sa.select(*columns).where(id_column == cursor_id, *anchor_where)).first()
            if cursor_id
            else None
        )
        if anchor is None:
            raise ValidationFailed("cursor: Not an item of this list.")
        compare = sa.tuple_(*columns) < sa.tuple_(*anchor) if descending else sa.tuple_(*columns) > sa.tuple_(*anchor)
        query = query.where(compare)
    ordering = [c.desc() if descending else c.asc() for c in columns]
    result = db.session.execute(query.order_by(*ordering).limit(limit + 1))
    described = query.column_descriptions
    if len(described) == 1:
        rows = result.scalars().unique().all()
    elif any(column["expr"] is column.get("entity") for column in described):
        rows = result.unique().all()  # an entity's joined eager loads repeat its row
    else:
        rows = result.all()  # plain rows: nothing to merge, and JSON values cannot be hashed
    page = rows[:limit]
    return page, (str(cursor_of(page[-1])) if len(rows) > limit else None)
