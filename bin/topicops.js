#!/usr/bin/env node
// The `topicops` command. Loads the TypeScript sources through tsx so it runs straight from a clone.
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("../src/cli.ts");
process.exitCode = await runCli(process.argv.slice(2));
