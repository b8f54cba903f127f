"""The search migration indexes the messages already stored (both tiers), and the index then
follows their edits."""

from flask_migrate import upgrade

from seda import create_app
from tests.chat.conftest import Chat
from tests.conftest import make_config
from tests.helpers.fixtures import UserFactory
from tests.users.test_username_migration import database_url  # noqa: F401

BEFORE_SEARCH = "d4e1b7c9a2f0"


def found(member, q):
    response = member.client.get(f"/api/v1/search/messages?q={q}", headers=member.user.headers)
    assert response.status_code == 200, response.get_json()
    return [hit["message"]["text"] for hit in response.get_json()]


def test_messages_stored_before_the_migration_are_found_after_it(database_url):  # noqa: F811
    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade(revision=BEFORE_SEARCH)
    member = Chat(app.test_client(), UserFactory(app).make())
    room = member.room(name="Archive")
    old = member.send(room["id"], "an old saxophone story")
    member.send(room["id"], "another old tune")
    with app.app_context():
        upgrade()
    assert found(member, "saxophone") == ["an old saxophone story"]
    assert found(member, "old") == ["another old tune", "an old saxophone story"]
    status, _ = member.patch(f"/messages/{old['id']}", json={"text": "a new trumpet story"})
    assert status == 200
    assert found(member, "saxophone") == []
    assert found(member, "trumpet%20story") == ["a new trumpet story"]
