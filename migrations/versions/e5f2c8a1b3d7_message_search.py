"""message search: a full-text index over each message's text, track title and track artist

PostgreSQL: `seda_search_document(text, track_ref)`, the `simple` configuration over the text
with accents removed (`unaccent`) and punctuation turned into spaces, indexed by a GIN index on
(room_id, document) (`btree_gin`), so that one index scan keeps only the caller's rooms. It is an
expression index, not a column: adding it rewrites no row, edits are in it at once, and it is
built CONCURRENTLY, so writes go on while it builds (bench/search.py times the build on 1,000,000
messages). SQLite: an FTS5 table over a view of the same document, kept in step by triggers and
filled from the existing messages here.

Revision ID: e5f2c8a1b3d7
Revises: d4e1b7c9a2f0
Create Date: 2026-11-30 08:20:00

"""

from alembic import op

revision = "e5f2c8a1b3d7"
down_revision = "d4e1b7c9a2f0"
branch_labels = None
depends_on = None

# IMMUTABLE so that an index may use it: unaccent's own functions are only STABLE because the
# dictionary could change, which seda never does. Plain SQL, so that the planner inlines it.
POSTGRES_DOCUMENT = """
CREATE OR REPLACE FUNCTION seda_search_document(body text, track json) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig, public.unaccent('public.unaccent'::regdictionary,
        regexp_replace(
            coalesce(body, '') || ' ' || coalesce(track ->> 'title', '') || ' ' || coalesce(track ->> 'artist', ''),
            '[[:punct:]]+', ' ', 'g')))
$$
"""

SQLITE_DOCUMENT = (
    "coalesce({row}.text, '') || ' ' || coalesce(json_extract({row}.track_ref, '$.title'), '') || ' ' || "
    "coalesce(json_extract({row}.track_ref, '$.artist'), '')"
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_postgresql():
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(POSTGRES_DOCUMENT)
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_search ON messages"
            " USING gin (room_id, seda_search_document(text, track_ref)) WHERE deleted_at IS NULL"
        )


def _upgrade_sqlite():
    document = SQLITE_DOCUMENT.format(row="messages")
    op.execute(f"CREATE VIEW messages_search_document AS SELECT rowid, {document} AS document FROM messages")
    op.execute(
        "CREATE VIRTUAL TABLE messages_search USING fts5(document, content='messages_search_document',"
        " content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    old, new = SQLITE_DOCUMENT.format(row="old"), SQLITE_DOCUMENT.format(row="new")
    forget = f"INSERT INTO messages_search(messages_search, rowid, document) VALUES ('delete', old.rowid, {old});"
    learn = f"INSERT INTO messages_search(rowid, document) VALUES (new.rowid, {new});"
    op.execute(f"CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER messages_search_update AFTER UPDATE OF text, track_ref ON messages BEGIN {forget} {learn} END"
    )
    op.execute("INSERT INTO messages_search(messages_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_search")
        op.execute("DROP FUNCTION IF EXISTS seda_search_document(text, json)")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER messages_search_{trigger}")
    op.execute("DROP TABLE messages_search")
    op.execute("DROP VIEW messages_search_document")
