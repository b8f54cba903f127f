// The official socket.io client against seda: connect with auth {token}, join, send, receive.
const { io } = require("socket.io-client");

const [url, token, roomId] = process.argv.slice(2);
const socket = io(`${url}/chat`, { auth: { token }, transports: ["websocket"], reconnection: false });
const received = [];
let ack = null;

setTimeout(() => { console.error("timed out", JSON.stringify({ received, ack })); process.exit(1); }, 15000);
socket.on("connect_error", (err) => { console.error("connect_error", err.message); process.exit(2); });
socket.on("message_created", (message) => {
  received.push(message.text);
  if (received.includes("hello JS") && received.includes("from JS")) {
    console.log(JSON.stringify({ ackOk: ack.ok, ackSeq: ack.message.seq, received }));
    socket.close();
    process.exit(0);
  }
});
socket.on("connect", () => {
  socket.emit("join_room", roomId, (joinAck) => {
    if (!joinAck.ok) { console.error(JSON.stringify(joinAck)); process.exit(3); }
    socket.emit("send_message", { roomId, text: "from JS" }, (sendAck) => {
      ack = sendAck;
      console.log("ready");
    });
  });
});
