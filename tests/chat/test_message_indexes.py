"""The thread index holds replies only and the popular tracks' index track cards only (both
tiers): a plain text, most of chat, writes neither. The migration that made them so goes back
and forth."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from seda import create_app
from tests.helpers.settings import make_config

BEFORE_PARTIAL_INDEXES = "b9d4e7a3c1f5"
PARTIAL = {
    "ix_messages_replies_parent_id_seq": "parent_id IS NOT NULL",
    "ix_messages_track_cards_created_at": "type = 'TRACK_CARD'",
}
WHOLE = ("ix_messages_parent_id_seq", "ix_messages_type_created_at")


def message_indexes(url):
    """{name: definition} of the messages table's indexes, as the database holds them."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                rows = conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages'"))
            else:
                rows = conn.execute(
                    sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'")
                )
            return {name: " ".join((definition or "").split()) for name, definition in rows}
    finally:
        engine.dispose()


def holds_only(definition, rows):
    # PostgreSQL writes the predicate back its own way: parentheses, casts of the literal.
    normalized = definition.replace("(", "").replace(")", "").replace("::text", "")
    return f"WHERE {rows}" in normalized


def test_thread_and_track_card_indexes_hold_only_their_rows(database_url):  # noqa: F811
    with create_app(make_config(database_url)).app_context():
        upgrade()
    indexes = message_indexes(database_url)
    for name, rows in PARTIAL.items():
        assert holds_only(indexes[name], rows), indexes[name]
    assert not set(WHOLE) & set(indexes)


def test_the_migration_goes_back_and_forth(database_url):  # noqa: F811
    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade()
        downgrade(revision=BEFORE_PARTIAL_INDEXES)
    indexes = message_indexes(database_url)
    assert set(WHOLE) <= set(indexes)
    assert not set(PARTIAL) & set(indexes)
    assert all(" WHERE " not in indexes[name] for name in WHOLE)
    with app.app_context():
        upgrade()
    assert set(PARTIAL) <= set(message_indexes(database_url))
