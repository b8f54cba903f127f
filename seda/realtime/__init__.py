"""The realtime layer, between `common` and the features: what every Socket.IO namespace stands
on, knowing no feature.

- `transport`: what seda changes under Socket.IO's transports (websocket writes gathered and
  never short, the polling batch limit, the payload packet), each for a measured failure; the
  private names it touches live in `seda.patches`.
- `runtime`: connections, `socket_event` (limits, turns, validation, the namespace's user, acks
  and error envelopes) and the guards around every event.
- `event_order`: a socket's events answered in the order they arrived.
- `emits`: the one way a change reaches sockets (rooms' and users' channels), after the ack.
- `presence`: who is online and in which room, shared by every process with Redis.

A feature's namespace (`chat/events.py`) names its events and calls its services; nothing here
imports a feature.
"""
