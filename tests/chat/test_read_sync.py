"""Read sync (API.md section 4): a read marker that moves tells every device of its owner."""

from tests.helpers.chat import events


def read_events(sock):
    return [args[0] for name, args in events(sock) if name == "read_updated"]


def test_a_read_on_one_device_reaches_the_others_with_the_unread_count(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    sent = [owner.send(room["id"], f"m{n}") for n in range(3)]
    phone, laptop = socket_for(fan.user), socket_for(fan.user)
    others = socket_for(owner.user)
    for sock in (phone, laptop, others):
        events(sock)
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": sent[1]["id"]})[0] == 204
    expected = {"roomId": room["id"], "messageId": sent[1]["id"], "unreadCount": 1}
    assert read_events(phone) == [expected] and read_events(laptop) == [expected]
    assert read_events(others) == []  # nobody else's business
    ack = phone.emit("mark_read", {"roomId": room["id"], "messageId": sent[2]["id"]}, namespace="/chat", callback=True)
    assert ack["ok"]
    assert read_events(laptop) == [{"roomId": room["id"], "messageId": sent[2]["id"], "unreadCount": 0}]


def test_a_marker_that_does_not_move_says_nothing(chat, socket_for):
    owner, fan = chat(), chat()
    room = owner.room()
    fan.post(f"/rooms/{room['id']}/join")
    first, second = owner.send(room["id"], "a"), owner.send(room["id"], "b")
    fan.put(f"/rooms/{room['id']}/read", json={"messageId": second["id"]})
    laptop = socket_for(fan.user)
    events(laptop)
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": first["id"]})[0] == 204  # never back
    assert fan.put(f"/rooms/{room['id']}/read", json={"messageId": second["id"]})[0] == 204  # already there
    assert read_events(laptop) == []
