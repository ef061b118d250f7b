import { parseArgs } from "node:util";
import { loadConfig, type Requirement } from "../config.ts";
import { ensureDatabase } from "../db/migrate.ts";
import { isAppError } from "../errors.ts";
import { createLogger } from "../logger.ts";
import { startService, type ServiceOptions } from "../main.ts";
import { runbooksCommand, runbooksUsage } from "./runbooks.ts";

const usage = `Usage: topicops <command>

Commands:
  serve     web server, workers and the Telegram bot in one process (what npm start runs)
  web       only the web server: stores webhooks and enqueues work, receives Telegram updates
            through the webhook (PUBLIC_URL); scale it out freely
  worker    only the workers and the outbox dispatcher (run as many replicas as you like);
            serves just /healthz, /readyz and /metrics
  migrate   create the database if needed and apply migrations
  runbooks  list, show, validate, sync, import and match runbooks (topicops runbooks help)
  help      this text

Configuration comes from environment variables; see README.md.`;

interface Command {
  requirements: Requirement[];
  service?: Omit<ServiceOptions, "logger">;
}

const out = { log: (line: string) => console.log(line), error: (line: string) => console.error(line) };

const commands: Record<string, Command> = {
  serve: { requirements: ["telegram", "hooks"], service: { web: true, workers: true, telegramUpdates: true, poll: true } },
  web: { requirements: ["telegram", "hooks"], service: { web: true, workers: false, telegramUpdates: true } },
  worker: { requirements: ["telegram"], service: { web: false, workers: true, telegramUpdates: false } },
  migrate: { requirements: [] },
  runbooks: { requirements: [] },
};

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, strict: false });
  const name = positionals[0] ?? "help";
  if (name === "help" || name === "--help" || name === "-h") {
    console.log(usage);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`topicops: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  try {
    const config = loadConfig(env, command.requirements);
    const logger = createLogger({ level: config.logLevel, secrets: [config.telegramBotToken, config.hookToken, config.telegramWebhookSecret] });
    if (name === "runbooks") {
      if (positionals[1] === undefined || positionals[1] === "help") {
        console.log(runbooksUsage);
        return positionals[1] === "help" ? 0 : 2;
      }
      return await runbooksCommand(argv.slice(1), config, logger, out);
    }
    if (!command.service) {
      await ensureDatabase(config.databaseUrl, logger);
      return 0;
    }
    const service = await startService(config, { ...command.service, logger });
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info({ signal }, "shutting down");
        resolve();
      };
      process.once("SIGINT", shutdown);
      process.once("SIGTERM", shutdown);
    });
    await service.stop();
    return 0;
  } catch (error) {
    if (isAppError(error)) {
      console.error(`topicops ${name}: ${error.message}`);
      return error.code === "config" ? 2 : 1;
    }
    console.error(`topicops ${name}: unexpected error`, error);
    return 1;
  }
}
