"""message search: full-text indexes over each message's text, track title and track artist

PostgreSQL: `seda_search_document(text, track_ref)`, the `simple` configuration over the text
with accents removed (`unaccent`) and punctuation turned into spaces, indexed by a GIN index on
(room_id, document) (`btree_gin`), so that one index scan keeps only the caller's rooms, and one
over the title and artist of track cards only (track search). They are expression indexes, not
columns: adding them rewrites no row, an edit is in them by the same UPDATE, and they are built
CONCURRENTLY, so writes go on while they build (bench/search.py times it on 1,000,000 messages).
SQLite: an FTS5 table (text, title, artist) over a view of the messages, kept in step by triggers
and filled from the existing messages here.

Revision ID: e5f2c8a1b3d7
Revises: d4e1b7c9a2f0
Create Date: 2026-11-30 08:20:00

"""

from alembic import op

revision = "e5f2c8a1b3d7"
down_revision = "d4e1b7c9a2f0"
branch_labels = None
depends_on = None

# IMMUTABLE so that an index may use them: unaccent's own functions are only STABLE because its
# dictionary could change, which seda never does.
POSTGRES_FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION seda_search_words(words text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('simple'::regconfig,
        public.unaccent('public.unaccent'::regdictionary, regexp_replace(words, '[[:punct:]]+', ' ', 'g')))
$$
""",
    """
CREATE OR REPLACE FUNCTION seda_search_document(body text, track json) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT seda_search_words(
        coalesce(body, '') || ' ' || coalesce(track ->> 'title', '') || ' ' || coalesce(track ->> 'artist', ''))
$$
""",
    """
CREATE OR REPLACE FUNCTION seda_track_document(track json) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT seda_search_words(coalesce(track ->> 'title', '') || ' ' || coalesce(track ->> 'artist', ''))
$$
""",
)
POSTGRES_INDEXES = (
    # Message search: the caller's rooms and the words in one index.
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_search ON messages"
    " USING gin (room_id, seda_search_document(text, track_ref)) WHERE deleted_at IS NULL",
    # Track search: only track cards, by title and artist, so a word common in chat costs nothing here.
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_track_search ON messages"
    " USING gin (seda_track_document(track_ref)) WHERE type = 'TRACK_CARD' AND deleted_at IS NULL",
)

SQLITE_COLUMNS = (
    "coalesce({row}.text, '')",
    "coalesce(json_extract({row}.track_ref, '$.title'), '')",
    "coalesce(json_extract({row}.track_ref, '$.artist'), '')",
)


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_postgresql():
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for function in POSTGRES_FUNCTIONS:
        op.execute(function)
    with op.get_context().autocommit_block():
        for index in POSTGRES_INDEXES:
            op.execute(index)


def _upgrade_sqlite():
    columns = ", ".join(
        f"{value.format(row='messages')} AS {name}"
        for name, value in zip(("text", "title", "artist"), SQLITE_COLUMNS, strict=True)
    )
    op.execute(f"CREATE VIEW messages_search_document AS SELECT rowid, {columns} FROM messages")
    op.execute(
        "CREATE VIRTUAL TABLE messages_search USING fts5(text, title, artist, content='messages_search_document',"
        " content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    old, new = (", ".join(value.format(row=row) for value in SQLITE_COLUMNS) for row in ("old", "new"))
    forget = (
        f"INSERT INTO messages_search(messages_search, rowid, text, title, artist) VALUES ('delete', old.rowid, {old});"
    )
    learn = f"INSERT INTO messages_search(rowid, text, title, artist) VALUES (new.rowid, {new});"
    op.execute(f"CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER messages_search_update AFTER UPDATE OF text, track_ref ON messages BEGIN {forget} {learn} END"
    )
    op.execute("INSERT INTO messages_search(messages_search) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_track_search")
            op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_search")
        op.execute("DROP FUNCTION IF EXISTS seda_track_document(json)")
        op.execute("DROP FUNCTION IF EXISTS seda_search_document(text, json)")
        op.execute("DROP FUNCTION IF EXISTS seda_search_words(text)")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER messages_search_{trigger}")
    op.execute("DROP TABLE messages_search")
    op.execute("DROP VIEW messages_search_document")
