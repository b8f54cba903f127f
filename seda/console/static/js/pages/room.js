// A room live: its messages as they arrive (the official socket.io client), what its listening
// session plays, the moderation of a message or its author, and its invite links to revoke.

import { askedFirst, h, person, show, when } from "../dom.js";

const MUTE_SECONDS = 3600;

export async function render({ api, view, attempt }) {
  const rooms = await api.get("/chat/rooms?scope=discover&limit=100");
  const picker = h("select", { id: "room-picker" },
    h("option", { value: "" }, "Pick a public room…"),
    rooms.map((room) => h("option", { value: room.id }, `${room.name} (${room.memberCount})`)));
  const playing = h("p", { id: "now-playing", class: "muted" });
  const list = h("ul", { class: "messages", id: "live-messages" });
  const invites = h("ul", { id: "room-invites" });
  const socket = window.io("/chat", {
    auth: (send) => send({ token: api.accessToken }),
    transports: ["websocket", "polling"],
  });
  let roomId = null;

  function line(message) {
    const moderate = (action, done) => attempt(action, done);
    return h("li", { "data-id": message.id },
      h("strong", {}, person(message.user)), " ", h("span", { class: "muted" }, when(message.createdAt)),
      h("div", { class: "text" }, message.text),
      h("div", { class: "row" },
        h("button", { class: "danger delete", onclick: askedFirst("Delete this message for everyone?", () => moderate(
          () => api.delete(`/admin/messages/${message.id}`), "Message deleted.")) }, "Delete"),
        h("button", { class: "mute", onclick: () => moderate(() => api.post(`/chat/rooms/${message.roomId}/mutes`,
          { userId: message.userId, durationSeconds: MUTE_SECONDS }), "Author muted for an hour.") }, "Mute author"),
        h("button", { class: "danger ban-author", onclick: askedFirst(`Ban ${person(message.user)} from this room?`,
          () => moderate(() => api.post(`/chat/rooms/${message.roomId}/bans`, { userId: message.userId }),
            "Author banned from the room.")) },
        "Ban author")));
  }

  function invite(link) {
    const limit = link.maxUses ? `${link.uses}/${link.maxUses} uses` : `${link.uses} uses`;
    return h("li", { "data-code": link.code },
      h("code", {}, link.code), " ", person(link.createdBy), " ",
      h("span", { class: "muted" }, `${limit}, expires ${link.expiresAt ? when(link.expiresAt) : "never"}`), " ",
      h("button", { class: "danger revoke-invite", onclick: () => attempt(async () => {
        await api.delete(`/chat/rooms/${link.roomId}/invites/${encodeURIComponent(link.code)}`);
        await listInvites(link.roomId);
      }, "Invite link revoked.") }, "Revoke"));
  }

  async function listInvites(id) {
    const links = await api.get(`/chat/rooms/${id}/invites?limit=100`);
    invites.replaceChildren(...(links.length ? links.map(invite) : [h("li", { class: "muted" }, "No usable links.")]));
  }

  function nowPlaying(item) {
    playing.textContent = item
      ? `Now playing: ${item.trackRef.title || item.trackRef.url}${item.trackRef.artist ? ` — ${item.trackRef.artist}` : ""}`
      : "Nothing is playing.";
  }

  async function watch(id) {
    if (roomId) socket.emit("leave_room", roomId);
    roomId = id;
    list.replaceChildren();
    invites.replaceChildren();
    playing.textContent = "";
    if (!id) return;
    // Watching a public room joins it, as any client's join_room does.
    const ack = await new Promise((resolve) => socket.emit("join_room", id, resolve));
    if (!ack.ok) throw new Error(ack.error.message.join("; "));
    nowPlaying(ack.session && ack.session.nowPlaying);
    const history = await api.get(`/chat/rooms/${id}/messages?limit=50`);
    list.replaceChildren(...history.reverse().map(line));
    await listInvites(id);
  }

  socket.on("message_created", (message) => { if (message.roomId === roomId) list.append(line(message)); });
  socket.on("message_deleted", (messageId, fromRoom) => {
    if (fromRoom === roomId) list.querySelector(`li[data-id="${CSS.escape(messageId)}"]`)?.remove();
  });
  socket.on("now_playing", (event) => { if (event.roomId === roomId) nowPlaying(event.item); });
  socket.on("session_ended", (fromRoom) => { if (fromRoom === roomId) nowPlaying(null); });
  socket.on("connect", () => { if (roomId) socket.emit("join_room", roomId); });
  picker.addEventListener("change", () => attempt(() => watch(picker.value)));
  show(view, h("h1", {}, "Live room"), h("div", { class: "row" }, picker), playing, list,
    h("h2", {}, "Invite links"), invites);
  return () => socket.disconnect();
}
