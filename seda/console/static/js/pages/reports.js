// Open reports, each with the reported message among its neighbours.

import { askedFirst, h, person, show, when } from "../dom.js";

export async function render({ api, view, attempt }) {
  async function load() {
    const reports = await api.get("/admin/reports?status=OPEN&limit=50");
    const cards = await Promise.all(reports.map(card));
    show(view, h("h1", {}, `Open reports (${reports.length})`),
      cards.length ? cards : h("p", { class: "muted", id: "reports-empty" }, "No open reports."));
  }

  async function context(message) {
    const room = `/chat/rooms/${message.roomId}/messages`;
    const [older, newer] = await Promise.all([
      api.get(`${room}?cursor=${message.id}&limit=2`).catch(() => []),
      api.get(`${room}?after=${message.id}&limit=2`).catch(() => []),
    ]);
    return [...older.reverse(), message, ...newer];
  }

  async function card(report) {
    const message = report.message;
    const around = await context(message);
    const resolve = (action, done) => attempt(async () => {
      await api.post(`/admin/reports/${report.id}/resolve`, { action });
      await load();
    }, done);
    return h("section", { class: "card report", "data-id": report.id },
      h("h2", {}, `“${report.reason}”`),
      h("p", { class: "muted" }, `Reported by ${person(report.reporter)} · ${when(report.createdAt)}`),
      h("ul", { class: "messages" }, around.map((m) => h("li", { class: m.id === message.id ? "reported" : "" },
        h("strong", {}, person(m.user)), " ", h("span", { class: "muted" }, when(m.createdAt)),
        h("div", { class: "text" }, m.text)))),
      h("div", { class: "row" },
        h("button", { class: "dismiss", onclick: () => resolve("DISMISS", "Report dismissed.") }, "Dismiss"),
        h("button", { class: "danger delete-message", onclick: askedFirst("Delete the reported message for everyone?",
          () => resolve("DELETE_MESSAGE", "Message deleted.")) }, "Delete message")));
  }

  await load();
}
