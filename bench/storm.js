// A reconnect storm with the official socket.io-client, driven by a JSON plan (argv[2]):
//   {doomed, survivor, tokens, room, backoff: "immediate" | "default", senderToken, rate, seconds}
// Every client connects to `doomed` and joins `room`, then "ready" is printed. The orchestrator
// kills `doomed` and writes "killed" to stdin. Each client then reconnects to `survivor` as
// socket.io-client would (immediately, or after its default backoff: 1 s ± 50 %, doubling to
// 5 s), re-joins, and catches up with GET …/messages?after=<last id>, checking that its seq
// has no gap. A sender on the survivor sends `rate` messages/s with acks throughout.
// Prints JSON lines: ready, then result.
const fs = require("fs");
const { io } = require("socket.io-client");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const percentile = (values, p) => {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

let killedAt = null;
const stats = { joinErrors: {}, connectErrors: {}, rest5xx: 0, restOther: 0, gaps: 0, hung: 0 };
const count = (bucket, key) => { bucket[key] = (bucket[key] || 0) + 1; };

class Client {
  constructor(token) {
    this.token = token;
    this.lastSeq = 0;
    this.lastId = null;
    this.seqs = new Set();
    this.rejoinedAt = null;
    this.caughtUpAt = null;
  }

  open(url) {
    const socket = io(url + "/chat", {
      transports: ["websocket"], reconnection: false, auth: { token: this.token }, timeout: 20000,
    });
    socket.on("message_created", (m) => this.seen(m));
    this.socket = socket;
    return new Promise((resolve) => {
      socket.on("connect", () => resolve("connected"));
      socket.on("connect_error", (error) => resolve(error.message || "connect_error"));
    });
  }

  seen(message) {
    this.seqs.add(message.seq);
    if (message.seq > this.lastSeq) { this.lastSeq = message.seq; this.lastId = message.id; }
  }

  async join() {
    const ack = await this.socket.timeout(20000).emitWithAck("join_room", plan.room).catch(() => null);
    if (!ack || !ack.ok) {
      count(stats.joinErrors, ack ? `${ack.error.statusCode} ${ack.error.message[0]}` : "timeout");
      return null;
    }
    return ack;
  }

  // After the kill: reconnect to the survivor with socket.io-client's backoff until joined.
  async rejoin() {
    // Catch up from the last message seen before the connection died: live events that arrive
    // once re-joined must not move the starting point past what was missed.
    const since = this.lastId;
    let attempt = 0;
    for (;;) {
      const delay = attempt === 0 && plan.backoff === "immediate" ? 0
        : Math.min(5000, 1000 * 2 ** Math.max(0, attempt - (plan.backoff === "immediate" ? 1 : 0)))
          * (0.5 + Math.random());
      await new Promise((r) => setTimeout(r, delay));
      attempt += 1;
      const outcome = await this.open(plan.survivor);
      if (outcome !== "connected") {
        count(stats.connectErrors, outcome);
        if (outcome === "timeout") stats.hung += 1;
        this.socket.close();
        continue;
      }
      if (await this.join()) break;
      this.socket.close();
    }
    this.rejoinedAt = now();
    await this.catchUp(since);
    this.caughtUpAt = now();
  }

  async catchUp(since) {
    let after = since;
    for (;;) {
      const query = after ? `?after=${after}&limit=100` : "?limit=100";
      const response = await fetch(`${plan.survivor}/api/v1/chat/rooms/${plan.room}/messages${query}`, {
        headers: { Authorization: `Bearer ${this.token}` },
      }).catch(() => null);
      if (!response || response.status >= 500) { stats.rest5xx += 1; await new Promise((r) => setTimeout(r, 500)); continue; }
      if (response.status !== 200) { stats.restOther += 1; return; }
      const page = await response.json();
      for (const message of page) this.seen(message);
      if (page.length < 100) return;
      after = page[page.length - 1].id;
    }
  }

  hasGap() {
    for (let seq = this.firstSeq + 1; seq <= this.lastSeq; seq += 1) if (!this.seqs.has(seq)) return true;
    return false;
  }
}

async function sender() {
  const socket = io(plan.survivor + "/chat", { transports: ["websocket"], auth: { token: plan.senderToken } });
  await new Promise((resolve) => socket.on("connect", resolve));
  await socket.emitWithAck("join_room", plan.room);
  const latencies = [];
  let failed = 0;
  const interval = 1000 / plan.rate;
  const stopAt = now() + plan.seconds * 1000;
  const pending = [];
  while (now() < stopAt) {
    const started = now();
    pending.push(socket.timeout(10000).emitWithAck("send_message", { roomId: plan.room, text: "storm" })
      .then((ack) => { if (ack.ok) latencies.push(now() - started); else failed += 1; })
      .catch(() => { failed += 1; }));
    await new Promise((r) => setTimeout(r, interval));
  }
  await Promise.all(pending);
  socket.close();
  return { acks: latencies.length, failed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function main() {
  const clients = plan.tokens.map((token) => new Client(token));
  for (let i = 0; i < clients.length; i += 100) {
    await Promise.all(clients.slice(i, i + 100).map(async (client) => {
      if (await client.open(plan.doomed) !== "connected") throw new Error("initial connect failed");
      const ack = await client.join();
      if (!ack) throw new Error("initial join failed");
      client.lastSeq = ack.seq;
      client.firstSeq = ack.seq;
      // Like an app that shows the room: it has the newest message, and catches up after it
      // (without it, a storm in a room with history would page through that history).
      const newest = await fetch(`${plan.doomed}/api/v1/chat/rooms/${plan.room}/messages?limit=1`, {
        headers: { Authorization: `Bearer ${client.token}` },
      }).then((response) => response.json());
      if (newest.length) client.lastId = newest[0].id;
    }));
  }
  const sending = sender();
  say({ event: "ready" });
  await new Promise((resolve) => process.stdin.once("data", resolve));
  killedAt = now();
  const deadline = killedAt + plan.deadlineSeconds * 1000;
  await Promise.race([
    Promise.all(clients.map((client) => client.rejoin())),
    new Promise((r) => setTimeout(r, plan.deadlineSeconds * 1000)),
  ]);
  const rejoined = clients.filter((c) => c.caughtUpAt !== null && c.caughtUpAt <= deadline);
  const times = rejoined.map((c) => (c.caughtUpAt - killedAt) / 1000);
  const senderResult = await sending;
  for (const client of rejoined) if (client.hasGap()) stats.gaps += 1;
  say({
    event: "result",
    clients: clients.length,
    rejoined: rejoined.length,
    never: clients.length - rejoined.length,
    p50: percentile(times, 50), p90: percentile(times, 90), p99: percentile(times, 99),
    max: times.length ? Math.max(...times) : null,
    ...stats,
    sender: senderResult,
  });
  for (const client of clients) client.socket.close();
  process.exit(0);
}

main().catch((error) => { say({ event: "error", message: String(error) }); process.exit(1); });
