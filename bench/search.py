"""Search on PostgreSQL with 1,000,000 messages over 1,000 rooms (#18): GET /search/messages for a
user in 20 rooms, next to the bare SQL query it runs, in the same run; and the migration's index
build on those messages, timed while a writer keeps inserting (does it block writes?).

Texts are 6–14 words drawn from a 20,000-word vocabulary with Zipf frequencies (word of rank r
has weight 1/r), so that a few words are everywhere and most are rare, as in chat. Measured:
  rare:      a word placed in 30 messages in all, 4 of them in the user's rooms (target p99 <= 50 ms)
  common:    the rank-50 word, in ~2 % of messages, like "love" or "track" (target p99 <= 150 ms)
  stop word: the rank-1 word, in ~62 % of messages, like "the" (reported; no target)
One seda process in its production shape (gunicorn, PostgreSQL, Redis); requests one at a time.

    .venv/bin/python bench/search.py [--messages 1000000] [--requests 200]
"""

import argparse
import itertools
import json
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests
import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from seeding import access_token, fresh_database, seed_users, server_env  # noqa: E402

from tests.helpers.servers import gunicorn_server  # noqa: E402

ROOMS, MY_ROOMS, VOCABULARY = 1000, 20, 20_000
RARE, RARE_COUNT, RARE_MINE = "zquorbit", 30, 4
TRACKS, CARD_EVERY = 5000, 20  # 5 % of the messages share one of 5,000 tracks
INDEX_SQL = (
    "CREATE INDEX CONCURRENTLY ix_messages_search ON messages"
    " USING gin (room_id, seda_search_document(text, track_ref)) WHERE deleted_at IS NULL",
    "CREATE INDEX CONCURRENTLY ix_messages_track_search ON messages"
    " USING gin (seda_track_document(track_ref)) WHERE type = 'TRACK_CARD' AND deleted_at IS NULL",
)


def words():
    """VOCABULARY distinct pronounceable words of 3 syllables (none is a prefix of another)."""
    rng = random.Random(7)
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    found = set()
    while len(found) < VOCABULARY:
        found.add("".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(3)))
    ordered = sorted(found)
    rng.shuffle(ordered)
    return ordered


def seed(url, count):
    """Users, 1,000 public rooms, `count` messages spread over them in time order; returns the
    searching user's id and the vocabulary."""
    vocabulary = words()
    weights = list(itertools.accumulate(1 / rank for rank in range(1, VOCABULARY + 1)))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for index in ("ix_messages_search", "ix_messages_track_search"):  # built afterwards, as on a live database
            conn.execute(sa.text(f"DROP INDEX {index}"))
        users = seed_users(conn, 1000)
        now = datetime.now(UTC)
        rooms = [uuid.uuid4() for _ in range(ROOMS)]
        conn.execute(
            sa.text(
                "INSERT INTO rooms (id, name, type, slow_mode_seconds, last_seq, member_count, created_at, updated_at)"
                " VALUES (:id, :name, 'PUBLIC', 0, 0, 0, :now, :now)"
            ),
            [{"id": room, "name": f"Room {n}", "now": now} for n, room in enumerate(rooms)],
        )
        me = users[0]
        conn.execute(
            sa.text(
                "INSERT INTO room_memberships (id, room_id, user_id, role, last_read_seq, joined_at)"
                " VALUES (:id, :room, :user, 'MEMBER', 0, :now)"
            ),
            [{"id": uuid.uuid4(), "room": room, "user": me, "now": now} for room in rooms[:MY_ROOMS]],
        )
    engine.dispose()
    rng = random.Random(11)
    rare_at = set(rng.sample(range(count), RARE_COUNT - RARE_MINE))
    seqs, start = [0] * ROOMS, now - timedelta(days=365)
    mine = [n for n in range(count) if n % ROOMS < MY_ROOMS]
    rare_at |= set(rng.sample(mine, RARE_MINE))
    tracks = [_track(number, rng.choices(vocabulary, cum_weights=weights, k=4)) for number in range(TRACKS)]
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY messages (id, room_id, user_id, seq, type, text, track_ref, track_url, track_ref_auto,"
            " reply_count, mentions, created_at, updated_at) FROM STDIN"
        ) as copy:
            for n in range(count):
                room = n % ROOMS
                seqs[room] += 1
                text = rng.choices(vocabulary, cum_weights=weights, k=rng.randint(6, 14))
                if n in rare_at:
                    text[rng.randrange(len(text))] = RARE
                at = start + timedelta(seconds=n * 30)
                card = rng.choice(tracks) if n % CARD_EVERY == 0 else None
                copy.write_row(
                    (
                        uuid.uuid4(),
                        rooms[room],
                        users[n % 1000],
                        seqs[room],
                        "TRACK_CARD" if card else "TEXT",
                        " ".join(text),
                        json.dumps(card) if card else None,
                        card["url"] if card else None,
                        False,
                        0,
                        "[]",
                        at,
                        at,
                    )
                )
        cur.execute(
            "UPDATE rooms SET last_seq = s.seq FROM (SELECT room_id, max(seq) AS seq FROM messages GROUP BY room_id) s"
            " WHERE rooms.id = s.room_id"
        )
    return me, vocabulary


def _track(number, words):
    provider_id = f"{number:022d}"
    return {
        "provider": "spotify",
        "providerId": provider_id,
        "url": f"https://open.spotify.com/track/{provider_id}",
        "title": " ".join(words[:2]).title(),
        "artist": " ".join(words[2:]).title(),
        "artwork": None,
        "duration": 200,
    }


def build_index_while_writing(url):
    """Build the migration's index as the migration does, with a writer inserting throughout;
    returns (build seconds, writes during the build, worst write latency ms)."""
    dsn = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        room, user, seq = conn.execute(
            "SELECT room_id, user_id, max(seq) FROM messages GROUP BY room_id, user_id LIMIT 1"
        ).fetchone()
    done, latencies = threading.Event(), []

    def writer():
        with psycopg.connect(dsn, autocommit=True) as conn:
            n = seq + 10_000_000
            while not done.is_set():
                n += 1
                began = time.perf_counter()
                conn.execute(
                    "INSERT INTO messages (id, room_id, user_id, seq, type, text, track_ref_auto, reply_count,"
                    " mentions, created_at, updated_at) VALUES (%s, %s, %s, %s, 'TEXT', 'written during the build',"
                    " false, 0, '[]', now(), now())",
                    (uuid.uuid4(), room, user, n),
                )
                latencies.append((time.perf_counter() - began) * 1000)
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    began = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for index in INDEX_SQL:
            conn.execute(index)
        build = time.perf_counter() - began
        conn.execute("VACUUM ANALYZE messages")
    done.set()
    thread.join()
    return build, len(latencies), max(latencies)


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def time_api(base, token, q, requests_count, route="messages"):
    session, samples, hits = requests.Session(), [], None
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(requests_count + 5):
        began = time.perf_counter()
        response = session.get(f"{base}/api/v1/search/{route}", params={"q": q}, headers=headers, timeout=30)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text
        hits = len(response.json())
    return percentiles(samples[5:]), hits


BARE_SQL = """
SELECT m.id, m.text, m.created_at, m.seq, r.name, u.username
FROM messages m JOIN rooms r ON r.id = m.room_id JOIN users u ON u.id = m.user_id
WHERE m.room_id = ANY(%(rooms)s) AND m.deleted_at IS NULL
  AND seda_search_document(m.text, m.track_ref) @@ to_tsquery('simple'::regconfig, %(q)s)
ORDER BY m.created_at DESC, m.seq DESC, m.id DESC LIMIT 21
"""


def time_bare(url, me, q, requests_count):
    samples = []
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        for _ in range(requests_count + 5):
            began = time.perf_counter()
            rooms = [row[0] for row in conn.execute("SELECT room_id FROM room_memberships WHERE user_id = %s", (me,))]
            conn.execute(BARE_SQL, {"rooms": rooms, "q": f"'{q}':*"}).fetchall()
            samples.append((time.perf_counter() - began) * 1000)
            conn.rollback()
    return percentiles(samples[5:])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with fresh_database("seda_bench_search") as url:
        began = time.perf_counter()
        me, vocabulary = seed(url, args.messages)
        print(f"seeded {args.messages:,} messages over {ROOMS:,} rooms in {time.perf_counter() - began:.0f} s")
        build, writes, worst = build_index_while_writing(url)
        print(
            f"index build (CREATE INDEX CONCURRENTLY, as the migration): {build:.1f} s;"
            f" {writes} inserts went on meanwhile, the slowest took {worst:.1f} ms"
        )
        words = {"rare": RARE, "common": vocabulary[49], "stop word": vocabulary[0]}
        targets = {"rare": 50, "common": 150}
        with gunicorn_server(server_env(url, RATE_LIMIT_SEARCH="10000000/minute")) as base:
            token = access_token(me)
            print(f"GET /search/messages, user in {MY_ROOMS} rooms, {args.requests} requests each, one at a time:")
            print("| word | matches in all | seda p50 / p99 | bare SQL p50 / p99 | target p99 |")
            print("|---|---|---|---|---|")
            for label, word in words.items():
                (p50, p99), hits = time_api(base, token, word, args.requests)
                bare50, bare99 = time_bare(url, me, word, args.requests)
                total = _matches(url, word)
                target = targets.get(label)
                verdict = f"≤ {target} ms: {'met' if p99 <= target else '**missed**'}" if target else "—"
                print(
                    f"| {label} ({word}) | {total:,} | {p50:.1f} / {p99:.1f} ms ({hits} hits) |"
                    f" {bare50:.1f} / {bare99:.1f} ms | {verdict} |"
                )
            print("GET /search/tracks (5 % of the messages are track cards; no target, no baseline):")
            for label, word in words.items():
                (p50, p99), hits = time_api(base, token, word, args.requests, "tracks")
                print(f"  {label} ({word}): p50 {p50:.1f} ms, p99 {p99:.1f} ms ({hits} tracks)")


def _matches(url, word):
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        return conn.execute(
            "SELECT count(*) FROM messages WHERE deleted_at IS NULL"
            " AND seda_search_document(text, track_ref) @@ to_tsquery('simple'::regconfig, %s)",
            (f"'{word}'",),
        ).fetchone()[0]


if __name__ == "__main__":
    main()
