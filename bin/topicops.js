#!/usr/bin/env node
// The `topicops` command. Loads the TypeScript sources through tsx so it runs straight from a clone.
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { register } from "tsx/esm/api";

// A .env file in the working directory fills in what the environment does not already set.
if (existsSync(".env")) {
  for (const [key, value] of Object.entries(parseEnv(readFileSync(".env", "utf8")))) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
}

register();
const { runCli } = await import("../src/cli/index.ts");
// Exit once the command is done: whatever a failed start left open must not keep the process (and
// a pod that should be restarted) alive.
process.exit(await runCli(process.argv.slice(2)));
