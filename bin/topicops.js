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
process.exitCode = await runCli(process.argv.slice(2));
