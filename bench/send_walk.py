"""The walk of one socket send through seda's modules: which modules it passes through, in what
order, and every call that climbs back up a layer (a module calling one of a layer above its
own, by `.importlinter`'s layers): by an import of its own (none should: import-linter forbids
them), or through a function the layer above handed it (a handler, a callback).

A gunicorn-shaped server in this process (gevent, the app as production builds it, PostgreSQL
and Redis), one python-socketio client on a websocket; the profiler records seda's Python calls
from the moment the client emits `send_message` until its ack arrives, after a few warm-up sends
(so first-use loading is not in the walk).

    .venv/bin/python bench/send_walk.py [--sends 5]
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import configparser  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import sqlalchemy as sa  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from seeding import access_token, fresh_database, seed_room, seed_users, server_env  # noqa: E402

ROOT = HERE.parent / "seda"


def layer_ranks():
    """seda's top-level packages and their rank, highest layer first (.importlinter)."""
    config = configparser.ConfigParser()
    config.read(HERE.parent / ".importlinter")
    lines = config["importlinter:contract:layers"]["layers"].strip().splitlines()
    ranks = {}
    for rank, line in enumerate(lines):
        for name in line.split("|"):
            ranks[name.strip()] = rank
    return ranks


def module_of(filename):
    try:
        relative = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    parts = ["seda", *relative.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_rank(module, ranks):
    parts = module.split(".")
    for depth in (3, 2):
        name = ".".join(parts[:depth])
        if name in ranks:
            return ranks[name]
    return None


class Walk:
    def __init__(self, ranks):
        self.ranks, self.modules, self.climbs, self.on = ranks, [], set(), False

    def profile(self, frame, event, _arg):
        if event != "call" or not self.on:
            return
        callee = module_of(frame.f_code.co_filename)
        if callee is None:
            return
        if callee not in self.modules:
            self.modules.append(callee)
        caller = frame.f_back
        while caller is not None and module_of(caller.f_code.co_filename) is None:
            caller = caller.f_back  # through library frames to the seda module that led here
        if caller is None:
            return
        caller_module = module_of(caller.f_code.co_filename)
        low, high = package_rank(caller_module, self.ranks), package_rank(callee, self.ranks)
        if low is not None and high is not None and high < low:
            self.climbs.add((caller_module, caller.f_code.co_name, callee, frame.f_code.co_name))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=5, help="warm-up sends before the walked one")
    args = parser.parse_args()
    with fresh_database("seda_bench_walk") as url:
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            users = seed_users(conn, 1)
            room_id = str(seed_room(conn, users))
        engine.dispose()
        os.environ.update(server_env(url))
        walk_one_send(str(users[0]), room_id, args.sends)


def walk_one_send(user_id, room_id, warm_up):
    import socketio
    from gevent.pywsgi import WSGIServer

    from seda import create_app

    app = create_app()
    server = WSGIServer(("127.0.0.1", 0), app, log=None)
    server.start()
    client = socketio.Client(reconnection=False)
    client.connect(
        f"http://127.0.0.1:{server.server_port}",
        namespaces=["/chat"],
        auth={"token": access_token(user_id)},
        transports=["websocket"],
        wait_timeout=10,
    )
    assert client.call("join_room", room_id, namespace="/chat", timeout=10)["ok"]
    for number in range(warm_up):
        assert client.call("send_message", {"roomId": room_id, "text": f"warm {number}"}, namespace="/chat")["ok"]
    walk = Walk(layer_ranks())
    sys.setprofile(walk.profile)
    threading.setprofile(walk.profile)
    walk.on = True
    ack = client.call("send_message", {"roomId": room_id, "text": "walked"}, namespace="/chat", timeout=10)
    walk.on = False
    sys.setprofile(None)
    assert ack["ok"], ack
    client.disconnect()
    server.stop()
    print(f"one socket send passes through {len(walk.modules)} seda modules:")
    for module in walk.modules:
        print(f"  {module}")
    imported = [climb for climb in sorted(walk.climbs) if imports(climb[0], climb[2])]
    handed = [climb for climb in sorted(walk.climbs) if climb not in imported]
    print(f"{len(imported)} calls climb back up a layer to a module the caller imports:")
    for caller, caller_function, callee, callee_function in imported:
        print(f"  {caller}.{caller_function} -> {callee}.{callee_function}")
    print(f"{len(handed)} calls reach a layer above through a function it handed down (handlers, callbacks):")
    for caller, caller_function, callee, callee_function in handed:
        print(f"  {caller}.{caller_function} -> {callee}.{callee_function}")


def imports(module, other):
    """Whether `module`'s source imports `other` (or a name from it)."""
    path = HERE.parent.joinpath(*module.split("."))
    source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()
    package, _, name = other.rpartition(".")
    return f"import {other}" in source or f"from {other} import" in source or f"from {package} import {name}" in source


if __name__ == "__main__":
    main()
