// A client a frontend would write against the generated types (schema.d.ts, made by the test):
// it compiles only if the document names its operations' bodies and answers well enough.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Message = components["schemas"]["Message"];
type AuthSession = components["schemas"]["AuthSession"];

const api = createClient<paths>({ baseUrl: "http://localhost:3001" });

export async function signIn(email: string, password: string): Promise<AuthSession | undefined> {
  const { data } = await api.POST("/api/v1/auth/login", { body: { email, password } });
  if (data && "accessToken" in data) {
    // every key of an answer is there: no optional chaining needed
    const token: string = data.accessToken;
    const expiresIn: number = data.expiresIn;
    return token && expiresIn ? data : undefined;
  }
  return undefined;
}

export async function send(roomId: string, text: string): Promise<Message | undefined> {
  const { data, error } = await api.POST("/api/v1/chat/rooms/{roomId}/messages", {
    params: { path: { roomId } },
    body: { text },
  });
  if (error || !data) {
    const reasons: string[] = error?.message ?? [];
    console.error(reasons.join("; "));
    return undefined;
  }
  const seq: number = data.seq;
  const mentions: string[] = data.mentions;
  const unfurl: "PENDING" | "DONE" | "FAILED" | null = data.unfurl;
  console.log(seq, mentions.length, unfurl, data.user.username);
  return data;
}

export async function history(roomId: string): Promise<number> {
  const { data } = await api.GET("/api/v1/chat/rooms/{roomId}/messages", {
    params: { path: { roomId }, query: { limit: 20 } },
  });
  return (data ?? []).reduce((highest: number, message: Message) => Math.max(highest, message.seq), 0);
}
