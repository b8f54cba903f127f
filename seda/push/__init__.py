"""Web Push (API.md §13): browsers' push subscriptions, tied to the device that made them, and
delivery of encrypted pushes (RFC 8291) signed with seda's VAPID key (RFC 8292) through the safe
fetcher. Which notification goes out as a push is the notifications feature's decision."""
