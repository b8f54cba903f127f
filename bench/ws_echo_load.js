// One Node process, many Socket.IO clients over websocket, each sending `echo` with an ack,
// one at a time, for a fixed duration. Prints JSON: round trips, per second, p50/p99 ms, CPU.
const { io } = require("socket.io-client");

const [url, clients = "50", seconds = "5"] = process.argv.slice(2);
const nClients = Number(clients);
const durationMs = Number(seconds) * 1000;
const payload = { text: "x".repeat(200) };
const latencies = [];
let connected = 0;

function runClient(socket, deadline) {
  return new Promise((resolve) => {
    const loop = () => {
      if (Date.now() >= deadline) return resolve();
      const t0 = process.hrtime.bigint();
      socket.timeout(5000).emit("echo", payload, (err) => {
        if (!err) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        loop();
      });
    };
    loop();
  });
}

const sockets = [];
for (let i = 0; i < nClients; i++) {
  const s = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
  s.on("connect", () => {
    connected += 1;
    if (connected === nClients) start();
  });
  s.on("connect_error", (e) => { console.error("connect_error", e.message); process.exit(2); });
  sockets.push(s);
}

async function start() {
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await Promise.all(sockets.map((s) => runClient(s, t0 + durationMs)));
  const elapsed = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  console.log(JSON.stringify({
    roundTrips: latencies.length,
    perSecond: latencies.length / elapsed,
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
  }));
  sockets.forEach((s) => s.close());
  process.exit(0);
}

setTimeout(() => { console.error("timeout connecting"); process.exit(3); }, 30000);
