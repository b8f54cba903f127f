// The review queue: AWAITING_ADMIN requests oldest first, with what the check found.

import { h, highlighted, person, show, when } from "../dom.js";

const REFRESH_MS = 10000;

export async function render({ api, view, attempt }) {
  async function load() {
    const pending = await api.get("/admin/verification/pending?limit=100");
    show(view, h("h1", {}, `Verification queue (${pending.length})`),
      pending.length ? pending.map(card) : h("p", { class: "muted", id: "queue-empty" }, "Nothing waits for review."));
  }

  function card(request) {
    const check = request.lastCheck || {};
    const evidence = request.evidence || {};
    const notes = h("input", { name: "notes", placeholder: "Notes (optional)", maxlength: 500 });
    const reason = h("input", { name: "reason", placeholder: "Reason for denying", maxlength: 500 });
    const act = (action, done) => attempt(async () => { await action(); await load(); }, done);
    return h("section", { class: "card verification", "data-id": request.id },
      h("h2", {}, person(request.user), " ", h("span", { class: "muted" }, request.user && request.user.email)),
      h("dl", {},
        h("dt", {}, "Claim code"), h("dd", {}, request.claimCode),
        h("dt", {}, "Page"), h("dd", {}, request.targetUrl),
        h("dt", {}, "Final URL"), h("dd", {}, check.finalUrl || "—"),
        h("dt", {}, "HTTP status"), h("dd", {}, check.httpStatus ?? "—"),
        h("dt", {}, "Found by"), h("dd", {}, check.method || "—"),
        h("dt", {}, "Checked"), h("dd", {}, when(check.checkedAt)),
        h("dt", {}, "Submitted"), h("dd", {}, when(request.submittedAt))),
      h("blockquote", { class: "excerpt" }, highlighted(evidence.excerpt, request.claimCode)),
      h("div", { class: "row" }, notes,
        h("button", { class: "primary approve", onclick: () => act(
          () => api.patch(`/admin/verification/${request.id}/approve`, notes.value.trim() ? { notes: notes.value.trim() } : {}),
          "Approved.") }, "Approve")),
      h("div", { class: "row" }, reason,
        h("button", { class: "danger deny", onclick: () => act(
          () => api.patch(`/admin/verification/${request.id}/deny`, { reason: reason.value.trim() }), "Denied.") }, "Deny"),
        h("button", { class: "recrawl", onclick: () => act(
          () => api.post(`/admin/verification/${request.id}/crawl`), "A fresh check is queued.") }, "Re-crawl")));
  }

  // The periodic refresh waits while an admin is typing notes or a reason: it would wipe them.
  const typing = () => [...view.querySelectorAll("input")].some((i) => i.value || i === document.activeElement);
  await load();
  const timer = setInterval(() => { if (!typing()) attempt(load); }, REFRESH_MS);
  return () => clearInterval(timer);
}
