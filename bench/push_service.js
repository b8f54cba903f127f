// A Web Push service for bench/push_mention.py: HTTPS on 127.0.0.2, answers every
// POST /push/<token> with 201 after `delayMs` (a real service's latency), or never in "hang" mode
// (the sender's timeout ends it). It does not decrypt (the tests do): it times arrivals.
// argv[2]: JSON {port, key, cert, delayMs}. stdin lines: "delay N", "hang", "report" (prints
// {event: "report", arrivals: [[token, wallMs], …]} and forgets them).
const fs = require("fs");
const https = require("https");

const plan = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
let delayMs = plan.delayMs;
let hang = false;
let arrivals = [];
const wallNow = () => performance.timeOrigin + performance.now();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const server = https.createServer({ key: fs.readFileSync(plan.key), cert: fs.readFileSync(plan.cert) }, (req, res) => {
  const at = wallNow();
  req.resume();
  req.on("end", () => {
    arrivals.push([req.url.slice("/push/".length), at]);
    if (hang) return; // never answered: the sender's deadline ends it
    setTimeout(() => { res.writeHead(201); res.end(); }, delayMs);
  });
});
server.keepAliveTimeout = 60000;
server.listen(plan.port, "127.0.0.2", () => say({ event: "ready" }));

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\n")) >= 0) {
    const line = buffered.slice(0, newline).trim();
    buffered = buffered.slice(newline + 1);
    if (line === "hang") hang = true;
    else if (line.startsWith("delay ")) { hang = false; delayMs = Number(line.slice(6)); }
    else if (line === "report") { say({ event: "report", arrivals }); arrivals = []; }
  }
});
process.stdin.on("end", () => process.exit(0));
