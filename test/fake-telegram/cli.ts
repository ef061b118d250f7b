// Runs the fake Bot API server on its own for manual trials:
//   node bin/run-ts.js test/fake-telegram/cli.ts --port 8081 [--host 127.0.0.1] [--token T] [--rate-limit 20]
// Point the bot at the printed apiRoot. Lines typed on stdin play the people in the group:
//   some text              a user message in General
//   #<thread> some text    a user message in that topic
//   !cb <messageId> <data> a button press on a bot message
//   !close <thread> | !reopen <thread> | !delete-topic <thread> | !delete <messageId>
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { startFakeTelegram, type ApiCall } from "./index.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8081" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string" },
    "rate-limit": { type: "string" },
    "service-updates": { type: "boolean", default: false },
  },
});

function logLine(call: ApiCall): void {
  const payload = call.payload;
  const thread = payload.message_thread_id ?? "-";
  const raw = payload.text ?? payload.name ?? payload.data ?? "";
  const text = (typeof raw === "string" ? raw : JSON.stringify(raw)).replace(/\s+/g, " ").slice(0, 80);
  const outcome = call.ok ? "ok" : call.network ? "DROPPED" : `ERR ${call.errorCode} ${call.description}`;
  const time = new Date(call.at).toISOString().slice(11, 23);
  console.log(`${time} ${call.method} chat=${call.chatId ?? "-"} thread=${String(thread)} ${outcome} ${JSON.stringify(text)}`);
}

const rateLimit = values["rate-limit"] ? { perMinute: Number(values["rate-limit"]) } : undefined;
const fake = await startFakeTelegram({
  port: Number(values.port),
  host: values.host,
  ...(values.token ? { token: values.token } : {}),
  ...(rateLimit ? { rateLimit } : {}),
  serviceUpdates: values["service-updates"],
  onCall: logLine,
});

console.log(`fake Telegram Bot API listening`);
console.log(`  apiRoot: ${fake.apiRoot}`);
console.log(`  token:   ${fake.token}`);
console.log(`  chat:    ${fake.chatId} (forum)`);
console.log(`type a line to post it as a user; "#<thread> text" for a topic; "!cb <messageId> <data>" to press a button`);

const person = { id: 284019371, first_name: "Anna", username: "apetrova" };

function handleLine(line: string): void {
  const trimmed = line.trim();
  if (trimmed === "") return;
  const [command, first, ...rest] = trimmed.split(/\s+/);
  const number = Number(first);
  switch (command) {
    case "!cb":
      fake.pushUpdate(fake.callbackQuery({ from: person, messageId: number, data: rest.join(" ") }));
      return;
    case "!close":
      return fake.closeTopic(number);
    case "!reopen":
      return fake.reopenTopic(number);
    case "!delete-topic":
      return fake.deleteTopic(number);
    case "!delete":
      return fake.deleteMessage(number);
  }
  const inTopic = /^#(\d+)\s+([\s\S]+)$/.exec(trimmed);
  const update = inTopic
    ? fake.userMessage({ from: person, threadId: Number(inTopic[1]), text: inTopic[2] as string })
    : fake.userMessage({ from: person, text: trimmed });
  fake.pushUpdate(update);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  try {
    handleLine(line);
  } catch (error) {
    console.error((error as Error).message);
  }
});

const shutdown = async (): Promise<void> => {
  await fake.close();
  process.exit(0);
};
process.on("SIGINT", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
