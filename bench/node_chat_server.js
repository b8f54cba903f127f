// The second baseline for the chat benchmarks: Node's socket.io, the reference server, speaking
// the same slice of seda's `/chat` protocol as bare_chat_app.py (join_room, send_message ->
// message_created to the room, acks) with no auth, no database and no Redis.
//   node node_chat_server.js <port>
const { Server } = require("socket.io");
const { randomUUID } = require("crypto");

const port = Number(process.argv[2]);
const io = new Server(port, { cors: { origin: "*" }, serveClient: false });
const chat = io.of("/chat");
const USER = {
  id: randomUUID(), displayName: "Bench user", avatarUrl: null, role: "USER", artistName: null, verified: false,
};
let seq = 0;

chat.on("connection", (socket) => {
  socket.on("join_room", (roomId, ack) => {
    socket.join(`room:${roomId}`);
    if (ack) ack({ ok: true, roomId, seq: 0 });
  });
  socket.on("send_message", (data, ack) => {
    const now = new Date().toISOString();
    const message = {
      id: randomUUID(), roomId: data.roomId, userId: USER.id, type: "TEXT", text: data.text, trackRef: null,
      parentId: null, clientMessageId: null, seq: ++seq, replyCount: 0, createdAt: now, updatedAt: now,
      editedAt: null, user: USER, reactions: [],
    };
    chat.to(`room:${data.roomId}`).emit("message_created", message);
    if (ack) ack({ ok: true, message });
  });
});
