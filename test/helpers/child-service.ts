import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/topicops.js", import.meta.url));

export interface ChildService {
  process: ChildProcess;
  url: string;
  output(): string;
  /** SIGKILL: no shutdown hooks, no flushing, like a power cut or an OOM kill. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** `topicops <command>` as a separate process, the way it runs in production. */
export async function spawnService(command: string, env: Record<string, string>, port: number): Promise<ChildService> {
  let output = "";
  const child = spawn(process.execPath, [bin, command], {
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`topicops ${command} exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) throw new Error(`topicops ${command} did not become ready:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    url,
    output: () => output,
    async kill9() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}
