// The numbers of /admin/stats, and verification requests by status as a bar chart.

import { h, show, svg } from "../dom.js";

const STATUSES = ["PENDING", "CRAWLING", "AWAITING_ADMIN", "APPROVED", "DENIED", "EXPIRED"];

function chart(byStatus) {
  const width = 560, bar = 26, gap = 10, label = 140;
  const most = Math.max(1, ...STATUSES.map((s) => byStatus[s] || 0));
  const rows = STATUSES.map((status, index) => {
    const count = byStatus[status] || 0;
    const y = index * (bar + gap);
    const length = Math.round(((width - label - 50) * count) / most);
    return [
      svg("text", { x: 0, y: y + bar * 0.7 }, status),
      svg("rect", { x: label, y, width: Math.max(length, 1), height: bar, rx: 3 }),
      svg("text", { x: label + length + 6, y: y + bar * 0.7, class: "count" }, String(count)),
    ];
  });
  return svg("svg", { id: "verification-chart", width, height: STATUSES.length * (bar + gap),
    role: "img", "aria-label": "Verification requests by status" }, ...rows.flat());
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("b", {}, String(value)), label);
}

export async function render({ api, view }) {
  const [stats, overview] = await Promise.all([api.get("/admin/stats"), api.get("/admin/verification/stats/overview")]);
  show(view, h("h1", {}, "Overview"),
    h("div", { class: "stats", id: "stats" },
      stat("users", stats.users.total), stat("banned", stats.users.banned), stat("rooms", stats.rooms),
      stat("messages", stats.messages.total), stat("messages, last 24 h", stats.messages.last24h),
      stat("approved, last 7 days", overview.approvedLast7Days),
      stat("median review (hours)", overview.medianReviewHours ?? "—")),
    h("h2", {}, "Verification requests by status"), chart(overview.byStatus));
}
