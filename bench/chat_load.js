// One Node process holding many Socket.IO clients of /chat, driven by a JSON plan (argv[2]):
//   {urls, tokens, rooms, mode: "burst" | "rate" | "idle", senders, messages, window, rate, seconds}
// Socket i connects to urls[i % urls.length] with tokens[i] and joins rooms[i].
//   burst: each sender keeps `window` send_message acks in flight until `messages` are sent;
//   rate:  the senders together send `rate` messages/s for `seconds` (open loop);
//   acks:  socket 0 sends plan.texts in turn, one at a time, `rounds` times, `pauseMs` apart, and
//          prints each ack's round trip: {event: "acks", acks: [[textIndex, ms, messageId, sentAtWallMs]]}
//   idle:  connect and join, print "ready", hold until stdin closes; each "report" line on stdin
//          prints the notification_created frames received so far, per message: count, first
//          and last receipt (wall-clock ms).
// Every message_created a socket receives is counted; its text carries the send time, so
// each delivery has a sender → receipt latency. Prints JSON lines: ready, start, result.
const fs = require("fs");
const WebSocket = require("ws");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const n = plan.tokens.length;
const sockets = [];
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const wallNow = () => performance.timeOrigin + performance.now(); // ms since the epoch, comparable across processes

let measuring = false;
let deliveries = 0;
let deliveredBytes = 0;
let lastDelivery = 0;
let lastEvent = now();
const latencies = [];

// A minimal Socket.IO v4 client of one namespace over a raw websocket. socket.io-client spends
// ~100 µs of CPU per received event, which capped a 1,000-socket fan-out at ~8,000 deliveries/s
// with the generator at 100 % CPU; here an event costs a prefix check and a string search.
const NS = "/chat";
const EVENT = `42${NS},`;
const ACK = `43${NS},`;
const CREATED = `${EVENT}["message_created",`;
const MARK = '"text":"b|';
const NOTIFIED = `${EVENT}["notification_created",`;
const notified = {}; // messageId -> {count, first, last}

function onNotification(frame) {
  const t = wallNow();
  const notification = JSON.parse(frame.slice(EVENT.length))[1];
  const seen = notified[notification.messageId] || (notified[notification.messageId] = { count: 0, first: t, last: t });
  seen.count += 1;
  seen.last = t;
}

class ChatSocket {
  constructor(url, token) {
    this.acks = new Map();
    this.nextId = 0;
    this.ws = new WebSocket(url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket",
      { perMessageDeflate: false });
    this.ready = new Promise((resolve, reject) => {
      this.ws.on("error", reject);
      this.ws.on("close", () => reject(new Error("closed before connecting")));
      this.ws.on("message", (raw) => this.onFrame(raw.toString(), token, resolve, reject));
    });
  }

  onFrame(frame, token, resolve, reject) {
    lastEvent = now();
    if (frame.startsWith(CREATED)) return this.onMessageCreated(frame);
    if (frame.startsWith(NOTIFIED)) return onNotification(frame);
    if (frame.startsWith(ACK)) {
      const open = frame.indexOf("[");
      const id = Number(frame.slice(ACK.length, open));
      const callback = this.acks.get(id);
      if (callback) { this.acks.delete(id); callback(JSON.parse(frame.slice(open))[0]); }
    } else if (frame === "2") this.ws.send("3");
    else if (frame[0] === "0") this.ws.send(`40${NS},${JSON.stringify({ token })}`);
    else if (frame.startsWith(`40${NS},`)) resolve(this);
    else if (frame.startsWith(`44${NS},`)) reject(new Error(frame));
  }

  onMessageCreated(frame) {
    if (!measuring) return;
    const at = frame.indexOf(MARK);
    if (at < 0) return;
    const t = now();
    const stamp = frame.indexOf("|", at + MARK.length) + 1;
    deliveries += 1;
    deliveredBytes += frame.length;
    lastDelivery = t;
    latencies.push(t - parseFloat(frame.slice(stamp, frame.indexOf('"', stamp))));
  }

  emit(event, payload) {
    return new Promise((resolve) => {
      const id = this.nextId++;
      const timer = setTimeout(() => { this.acks.delete(id); resolve({ ok: false, error: "ack timeout" }); }, 30000);
      this.acks.set(id, (ack) => { clearTimeout(timer); resolve(ack); });
      this.ws.send(`${EVENT}${id}${JSON.stringify([event, payload])}`);
    });
  }

  close() { this.ws.terminate(); }
}

function connect(i) {
  return new ChatSocket(plan.urls[i % plan.urls.length], plan.tokens[i]).ready
    .catch((e) => { throw new Error(`socket ${i}: ${e.message}`); });
}

const emitAck = (s, event, payload) => s.emit(event, payload);

async function inBatches(count, size, fn) {
  for (let start = 0; start < count; start += size) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + size); i++) batch.push(fn(i));
    await Promise.all(batch);
  }
}

async function quiet(ms, limitMs) {
  const until = now() + limitMs;
  while (now() - lastEvent < ms && now() < until) await new Promise((r) => setTimeout(r, 50));
}

let sent = 0, acked = 0, failed = 0;
const failures = [];
function recordAck(ack) {
  if (ack && ack.ok) acked += 1;
  else { failed += 1; if (failures.length < 5) failures.push(ack); }
}

function send(senderIndex) {
  const s = sockets[senderIndex];
  sent += 1;
  return emitAck(s, "send_message", { roomId: plan.rooms[senderIndex], text: `b|${sent}|${now()}` }).then(recordAck);
}

async function burst() {
  const perSender = Math.ceil(plan.messages / plan.senders.length);
  await Promise.all(plan.senders.map(async (idx) => {
    let left = perSender;
    const lane = async () => { while (left > 0) { left -= 1; await send(idx); } };
    await Promise.all(Array.from({ length: plan.window }, lane));
  }));
}

async function rate() {
  const interval = 1000 / plan.rate;
  const total = Math.round(plan.rate * plan.seconds);
  const start = now();
  const pending = [];
  for (let k = 0; k < total; k++) {
    const due = start + k * interval;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(plan.senders[k % plan.senders.length]));
  }
  await Promise.all(pending);
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : null;
}

async function main() {
  await inBatches(n, 100, async (i) => { sockets[i] = await connect(i); });
  await inBatches(n, 50, async (i) => {
    // A server busy with the joins before may answer 503 (no free database connection): retry.
    for (let attempt = 1; ; attempt++) {
      const ack = await emitAck(sockets[i], "join_room", plan.rooms[i]);
      if (ack && ack.ok) return;
      if (attempt === 10 || !ack || !ack.error || ack.error.statusCode !== 503) {
        throw new Error(`join ${i}: ${JSON.stringify(ack)}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  });
  await quiet(1000, 120000); // let join/presence broadcasts drain before measuring
  say({ event: "ready", sockets: n });
  if (plan.mode === "acks") {
    const acks = [];
    for (let round = 0; round < plan.rounds; round++) {
      for (let k = 0; k < plan.texts.length; k++) {
        const sentAt = wallNow(), t0 = now();
        const ack = await emitAck(sockets[0], "send_message", { roomId: plan.rooms[0], text: plan.texts[k] });
        if (!ack || !ack.ok) throw new Error(`send: ${JSON.stringify(ack)}`);
        acks.push([k, now() - t0, ack.message.id, sentAt]);
        await new Promise((r) => setTimeout(r, plan.pauseMs));
      }
    }
    say({ event: "acks", acks });
    sockets.forEach((s) => s.close());
    process.exit(0);
  }
  if (plan.mode === "idle") {
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => { if (chunk.includes("report")) say({ event: "notifications", notified }); });
    process.stdin.on("end", () => process.exit(0));
    return;
  }
  const members = {};
  plan.rooms.forEach((r) => { members[r] = (members[r] || 0) + 1; });
  say({ event: "start" });
  const cpu0 = process.cpuUsage();
  const t0 = now();
  measuring = true;
  await (plan.mode === "burst" ? burst() : rate());
  // Every acked message should reach every member of its room; wait for the last ones.
  const expected = () => acked * members[plan.rooms[plan.senders[0]]];
  let seen = -1, stillSince = now();
  while (deliveries < expected() && now() - stillSince < 5000) {
    if (deliveries !== seen) { seen = deliveries; stillSince = now(); }
    await new Promise((r) => setTimeout(r, 20));
  }
  const elapsedMs = now() - t0;
  const activeMs = lastDelivery - t0;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  say({
    event: "result", sent, acked, failed, failures, deliveries, expected: expected(),
    lost: expected() - deliveries, bytesPerDelivery: deliveredBytes / Math.max(deliveries, 1), seconds: activeMs / 1000,
    deliveriesPerSecond: deliveries / (activeMs / 1000), messagesPerSecond: acked / (activeMs / 1000),
    p50ms: percentile(latencies, 0.5), p99ms: percentile(latencies, 0.99),
    generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / (elapsedMs)) * 100,
  });
  sockets.forEach((s) => s.close());
  process.exit(0);
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(2); });
