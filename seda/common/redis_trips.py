"""Redis commands of many callers in one round trip, on a connection of their own.

Commands submitted while a round trip is on its way leave together in the next one
(common/batches.py). They are written packed on this object's own connection: Batches runs one
batch at a time, so nothing else uses it meanwhile, and redis-py's client path around a command
(the pool's get and release, Retry, the command's setup) cost as much CPU as the socket's send
and receive (py-spy of a kept history page and of a message send).
"""

import os

import redis

from seda.common.batches import Batches


class RoundTrips:
    def __init__(self, client):
        self._pool = client.connection_pool
        self._connection, self._pid = None, None
        self._batches = Batches(self._send, lambda: redis.ConnectionError("Redis round trip interrupted"))

    def call(self, *command):
        """Redis's reply to `command`; an error reply is returned, not raised (a script Redis
        forgot is the caller's to load again). A lost connection raises a redis.RedisError, and
        the next call connects anew."""
        return self._batches.submit(None, command)

    def _send(self, _key, commands):
        try:
            connection = self._own_connection()
            connection.send_packed_command(connection.pack_commands(commands))
            replies = [_reply(connection) for _ in commands]
        except Exception as error:
            self._drop_connection()
            lost = error if isinstance(error, redis.RedisError) else redis.ConnectionError(str(error))
            return [(None, lost)] * len(commands)
        return [(reply, None) for reply in replies]

    def _own_connection(self):
        if self._connection is None or self._pid != os.getpid():  # none yet, or a forked child
            self._connection, self._pid = self._pool.make_connection(), os.getpid()
        return self._connection

    def _drop_connection(self):
        if self._connection is not None:
            self._connection.disconnect()
            self._connection = None


def _reply(connection):
    try:
        return connection.read_response()
    except redis.ResponseError as error:  # this command's own error; the replies after it follow
        return error
