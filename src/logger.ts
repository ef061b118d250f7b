import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger };

/** Paths that may carry secrets anywhere they are logged; pino replaces them before writing. */
const redactPaths = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "req.headers.authorization",
  "*.headers.authorization",
  "secret",
  "*.secret",
  "password",
  "*.password",
  "config.telegramBotToken",
  "config.hookToken",
  "config.telegramWebhookSecret",
];

export interface CreateLoggerOptions {
  level?: string;
  /** Literal secret values scrubbed from every message and error text, e.g. the bot token. */
  secrets?: readonly (string | undefined)[];
  destination?: pino.DestinationStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const secrets = (options.secrets ?? []).filter((s): s is string => typeof s === "string" && s.length >= 6);
  const scrub = (text: string): string => secrets.reduce((acc, s) => acc.split(s).join("[redacted]"), text);
  const pinoOptions: LoggerOptions = {
    level: options.level ?? "info",
    base: { service: "topicops" },
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      // A secret can hide in a message string or an error's text (grammY's HttpError quotes URLs).
      logMethod(args, method) {
        if (secrets.length > 0) {
          for (let i = 0; i < args.length; i++) {
            const arg = args[i];
            if (typeof arg === "string") args[i] = scrub(arg);
            else if (arg instanceof Error) args[i] = scrubError(arg, scrub);
            else if (arg && typeof arg === "object" && "err" in arg && arg.err instanceof Error) {
              args[i] = { ...arg, err: scrubError(arg.err, scrub) };
            }
          }
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

function scrubError(error: Error, scrub: (s: string) => string): Error {
  const copy = new Error(scrub(error.message));
  copy.name = error.name;
  copy.stack = error.stack === undefined ? undefined : scrub(error.stack);
  return copy;
}
