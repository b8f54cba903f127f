// Find people, ban or unban them, change their role, turn off a lost two-factor, purge a deleted
// account now: only the buttons the caller's role allows.

import { askedFirst, h, person, show, when } from "../dom.js";

const STAFF = ["ADMIN", "SUPER_ADMIN"];

// What the API lets `me` set `user` to (PATCH /admin/users/{id}); the current role excluded.
function rolesFor(me, user) {
  if (me.id === user.id) return [];
  const all = me.role === "SUPER_ADMIN" ? ["USER", "ARTIST", ...STAFF] : ["USER", "ARTIST"];
  if (me.role !== "SUPER_ADMIN" && STAFF.includes(user.role)) return [];
  return all.filter((role) => role !== user.role);
}

function stateOf(user) {
  if (user.deleted) return "deleted";
  return user.banned ? "banned" : "active";
}

export async function render({ api, view, attempt }) {
  const query = h("input", { type: "search", name: "q", placeholder: "Email or name", id: "user-query" });
  const results = h("div", { id: "user-results" });
  const detail = h("div", { id: "user-detail" });

  async function search() {
    const q = query.value.trim();
    const users = await api.get(`/admin/users?limit=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
    show(results, h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Email", "Role", "State", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, users.map((user) => h("tr", { "data-id": user.id },
        h("td", {}, person(user)), h("td", {}, user.email), h("td", {}, user.role),
        h("td", { class: "state" }, stateOf(user)),
        h("td", {}, h("button", { class: "open", onclick: () => open(user) }, "Open")))))));
  }

  function open(user) {
    if (user.deleted) return openDeleted(user);
    const reason = h("input", { name: "reason", placeholder: "Reason for the ban", maxlength: 500 });
    const act = (action, done) => attempt(async () => {
      const updated = await action();
      open(updated);
      await search();
    }, done);
    const ban = user.banned
      ? h("button", { class: "unban", onclick: () => act(() => api.post(`/admin/users/${user.id}/unban`), "Unbanned.") },
        "Unban")
      : [reason, h("button", { class: "danger ban", onclick: askedFirst(`Ban ${person(user)} from all of seda?`, () => act(
        () => api.post(`/admin/users/${user.id}/ban`, { reason: reason.value.trim() }), "Banned.")) }, "Ban")];
    const twoFactor = user.twoFactorEnabled
      ? h("button", { class: "danger reset-2fa", onclick: askedFirst(
        `Turn off two-factor for ${person(user)}? Only their password will protect the account.`, () => act(async () => {
          await api.delete(`/admin/users/${user.id}/2fa`);
          return { ...user, twoFactorEnabled: false };
        }, "Two-factor turned off; the user was mailed.")) }, "Turn off two-factor")
      : null;
    const roles = rolesFor(api.user, user).map((role) => h("button", {
      class: "set-role", "data-role": role,
      onclick: askedFirst(`Make ${person(user)} ${role}?`,
        () => act(() => api.patch(`/admin/users/${user.id}`, { role }), `Role set to ${role}.`)),
    }, `Make ${role}`));
    show(detail, h("section", { class: "card", "data-id": user.id },
      h("h2", {}, person(user)),
      h("dl", {},
        h("dt", {}, "Email"), h("dd", {}, user.email),
        h("dt", {}, "Role"), h("dd", { class: "role" }, user.role),
        h("dt", {}, "Banned"), h("dd", { class: "banned" }, user.banned ? "yes" : "no"),
        h("dt", {}, "Two-factor"), h("dd", { class: "two-factor" }, user.twoFactorEnabled ? "on" : "off"),
        h("dt", {}, "Artist"), h("dd", {}, user.artistProfile
          ? `${user.artistProfile.artistName}${user.artistProfile.verified ? " (verified)" : ""}` : "—"),
        h("dt", {}, "Joined"), h("dd", {}, when(user.createdAt))),
      h("div", { class: "row" }, ban, twoFactor),
      roles.length ? h("div", { class: "row" }, roles) : null));
  }

  // A deleted account waits for its purge: it can be purged now, nothing else.
  function openDeleted(user) {
    const purge = h("button", { class: "danger purge", onclick: () => {
      if (!window.confirm(`Erase ${user.email} for good? This cannot be undone.`)) return;
      attempt(async () => {
        await api.post(`/admin/users/${user.id}/purge`);
        show(detail);
        await search();
      }, "Purged: email and username are free again.");
    } }, "Purge now");
    show(detail, h("section", { class: "card", "data-id": user.id },
      h("h2", {}, person(user)),
      h("dl", {},
        h("dt", {}, "Email"), h("dd", {}, user.email),
        h("dt", {}, "Deleted"), h("dd", { class: "deleted-at" }, when(user.deletedAt)),
        h("dt", {}, "Purged on"), h("dd", { class: "purge-at" }, when(user.purgeAt))),
      h("p", {}, "The owner can still restore this account until it is purged."),
      h("div", { class: "row" }, purge)));
  }

  const form = h("form", { class: "row", id: "user-search" }, query, h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (event) => { event.preventDefault(); attempt(search); });
  show(view, h("h1", {}, "Users"), form, results, detail);
  await search();
}
