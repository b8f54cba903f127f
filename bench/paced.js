// An open-loop HTTP load generator for the paced benchmarks (device_check.py, invite_preview.py):
// requests started at a steady `rate` per second for `seconds`, alternating between `kinds`, over
// kept-alive connections (at most `connections`), each answer's latency recorded per kind. Node
// spends ~0.1 ms of CPU per request, a Python client several times that, which on a 2-core
// machine took the CPU the server needed. argv[2]: JSON {base, kinds: [{name, path, headers}],
// rate, seconds, warmUp, connections}. Prints one JSON line: {latencies: {name: [ms]}, failures,
// unanswered, cpuMs} (the generator's own CPU over the run).
const fs = require("fs");
const http = require("http");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const agent = new http.Agent({ keepAlive: true, maxSockets: plan.connections || 256 });
const base = new URL(plan.base);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const latencies = Object.fromEntries(plan.kinds.map((k) => [k.name, []]));
let failures = 0, pending = 0;

function request(kind, record) {
  pending += 1;
  const started = now();
  const req = http.request(
    { host: base.hostname, port: base.port, path: kind.path, headers: kind.headers, agent },
    (res) => {
      res.resume();
      res.on("end", () => {
        pending -= 1;
        if (res.statusCode !== 200) failures += 1;
        else if (record) latencies[kind.name].push(now() - started);
      });
    },
  );
  req.on("error", () => { pending -= 1; failures += 1; });
  req.end();
}

async function main() {
  for (let n = 0; n < (plan.warmUp || 200); n++) {
    request(plan.kinds[n % plan.kinds.length], false);
    await new Promise((r) => setTimeout(r, 2));
  }
  while (pending > 0) await new Promise((r) => setTimeout(r, 10));
  const total = Math.round(plan.rate * plan.seconds);
  const cpu = process.cpuUsage();
  const start = now();
  let n = 0;
  await new Promise((resolve) => {
    // Every millisecond (a timer, not a spin: the generator must leave the CPU to the server),
    // start the requests whose time has come.
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - start) * plan.rate) / 1000) + 1);
      for (; n < due; n++) request(plan.kinds[n % plan.kinds.length], true);
      if (n >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const deadline = now() + 60000;
  while (pending > 0 && now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const used = process.cpuUsage(cpu);
  const result = { latencies, failures, unanswered: pending, cpuMs: (used.user + used.system) / 1000 };
  // Exit once the line is written: a pipe takes it asynchronously, and exiting at once cut it at 64 KiB.
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
}
main();
