import { z } from "zod";
import { AppError } from "./errors.ts";
import { defaultThresholds } from "./trust/policy.ts";

/**
 * Configuration comes from the environment only, and is validated once at start-up. Every problem
 * is reported in one message so an operator fixes them all in one go.
 */

const intInRange = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, "must be a whole number")
    .transform(Number)
    .refine((n) => Number.isSafeInteger(n) && n >= min && n <= max, `must be between ${min} and ${max}`);

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, `must be a URL (${protocols.map((p) => p.replace(":", "")).join(" or ")})`)
    .transform((value) => value.replace(/\/+$/, ""));

const nonEmpty = z.string().trim().min(1, "must not be empty");

const envSchema = z.object({
  PORT: intInRange(0, 65535).default(8080),
  HOST: nonEmpty.default("0.0.0.0"),
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgres://127.0.0.1:5432/topicops"),
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  TELEGRAM_BOT_TOKEN: z
    .string()
    .trim()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "must look like 123456:ABC-DEF… (the token BotFather gave you)")
    .optional(),
  TELEGRAM_CHAT_ID: z
    .string()
    .trim()
    .regex(/^-\d+$/, "must be the negative id of the forum supergroup, e.g. -1001234567890")
    .transform(Number)
    .refine(Number.isSafeInteger, "is out of range")
    .optional(),
  TELEGRAM_API_ROOT: url(["http:", "https:"]).default("https://api.telegram.org"),
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,256}$/, "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    .optional(),
  TELEGRAM_RATE_PER_MINUTE: intInRange(1, 600).default(20),
  TELEGRAM_MIN_INTERVAL_MS: intInRange(0, 60_000).optional(),
  ROLLUP_THRESHOLD: intInRange(2, 1000).default(3),
  PUBLIC_URL: url(["http:", "https:"]).optional(),
  HOOK_TOKEN: z
    .string()
    .regex(/^[A-Za-z0-9._~+/-]{16,}=*$/, "must be at least 16 characters of A-Z a-z 0-9 . _ ~ + / - (try: openssl rand -hex 32)")
    .optional(),
  HOOK_MAX_BYTES: intInRange(1024, 64 * 1024 * 1024).default(5 * 1024 * 1024),
  DELIVERY_RETENTION_DAYS: intInRange(1, 3650).default(30),
  APPROVER_IDS: z
    .string()
    .trim()
    .regex(/^\s*(\d+\s*(,\s*\d+\s*)*)?$/, "must be comma-separated Telegram user ids, e.g. 123,456")
    .transform((s) =>
      s
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)
        .map(Number),
    )
    .default([]),
  APPROVER_ADMINS: z
    .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
    .transform((v) => ["true", "1", "yes"].includes(v))
    .default(false),
  BUTTON_TTL_MINUTES: intInRange(1, 60 * 24 * 30).default(24 * 60),
  EXEC_ALLOWLIST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9._/+-]+(\s*,\s*[A-Za-z0-9._/+-]+)*$/, "must be comma-separated executable names or absolute paths, e.g. kubectl,ssh")
    .transform((s) => s.split(",").map((p) => p.trim()))
    .default(["kubectl", "cmctl", "argocd", "ssh"]),
  PROMETHEUS_URL: url(["http:", "https:"]).optional(),
  LOOP_PROTECTION_FAILURES: intInRange(1, 100).default(3),
  EXEC_PASS_ENV: z
    .string()
    .trim()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*$/, "must be comma-separated environment variable names, e.g. AWS_PROFILE,CLOUDSDK_CONFIG")
    .transform((s) => s.split(",").map((p) => p.trim()))
    .default([]),
  TRUST_THRESHOLDS: z
    .string()
    .trim()
    .regex(/^[A-Za-z]+=[0-9.]+(\s*,\s*[A-Za-z]+=[0-9.]+)*$/, "must be name=number pairs, e.g. promptedMinApproved=5,standardMinWilsonLower=0.92")
    .transform((s) => Object.fromEntries(s.split(",").map((p) => p.split("=").map((x) => x.trim())).map(([k, v]) => [k!, Number(v)])))
    .refine(
      (o) => Object.keys(o).every((k) => k in defaultThresholds),
      `names one that does not exist; the thresholds are: ${Object.keys(defaultThresholds).join(", ")}`,
    )
    .optional(),
  TOPICS_DIR: nonEmpty.default("./topics"),
  RUNBOOKS_DIR: nonEmpty.default("./runbooks"),
  ALERTMANAGER_URL: url(["http:", "https:"]).optional(),
  QDRANT_URL: url(["http:", "https:"]).optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 characters of letters, digits, _ and -")
    .default("topicops"),
  OLLAMA_HOST: url(["http:", "https:"]).optional(),
  OLLAMA_EMBED_MODEL: nonEmpty.default("nomic-embed-text"),
  RUNBOOK_MIN_SIMILARITY: z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a number from 0 to 1, e.g. 0.35")
    .transform(Number)
    .optional(),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], { error: "must be one of fatal, error, warn, info, debug, trace, silent" })
    .default("info"),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 characters of letters, digits, _ . -")
    .default("topicops"),
  WORKER_CONCURRENCY: intInRange(1, 256).default(8),
  EXECUTION_CONCURRENCY: intInRange(1, 256).default(4),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  redisUrl: string;
  telegramBotToken: string | undefined;
  telegramChatId: number | undefined;
  telegramApiRoot: string;
  telegramWebhookSecret: string | undefined;
  telegramRatePerMinute: number;
  telegramMinIntervalMs: number;
  rollupThreshold: number;
  publicUrl: string | undefined;
  hookToken: string | undefined;
  hookMaxBytes: number;
  /** Raw webhook bodies older than this are deleted (the alerts they carried stay). */
  deliveryRetentionDays: number;
  approverIds: number[];
  /** Chat administrators may approve too (in addition to APPROVER_IDS). */
  approverAdmins: boolean;
  buttonTtlMinutes: number;
  /** Executables a runbook's `run` steps may start. */
  execAllowlist: string[];
  prometheusUrl: string | undefined;
  /** Failed runs in a row of one runbook for one alert after which it is not run again unattended. */
  loopProtectionFailures: number;
  /** Extra environment variables runbook commands receive (cloud credentials for kubeconfigs …). */
  execPassEnv: string[];
  /** Overrides of the trust ladder's thresholds, by name (see src/trust/policy.ts). */
  trustThresholds: Record<string, number> | undefined;
  topicsDir: string;
  runbooksDir: string;
  alertmanagerUrl: string | undefined;
  qdrantUrl: string | undefined;
  qdrantApiKey: string | undefined;
  qdrantCollection: string;
  ollamaHost: string | undefined;
  ollamaEmbedModel: string;
  /** Unset: the embedder's own default (see runbooks/index.ts). */
  runbookMinSimilarity: number | undefined;
  logLevel: string;
  queuePrefix: string;
  workerConcurrency: number;
  /** Runbook runs one worker process carries out at once. */
  executionConcurrency: number;
}

/** What a command needs beyond the defaults; checked together with the schema. */
export type Requirement = "telegram" | "hooks";

const requirementVars: Record<Requirement, (keyof z.output<typeof envSchema>)[]> = {
  telegram: ["TELEGRAM_BOT_TOKEN", "TELEGRAM_CHAT_ID"],
  hooks: ["HOOK_TOKEN"],
};

export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined>, requirements: Requirement[] = []): Config {
  // An empty variable means "not set": that is how compose files and k8s manifests leave things out.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== "") cleaned[key] = value;
  }
  const problems: string[] = [];
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "?");
      const shown = name in cleaned && !isSecretVar(name) ? ` (got ${JSON.stringify(cleaned[name])})` : "";
      problems.push(`${name} ${issue.message}${shown}`);
    }
  }
  for (const requirement of requirements) {
    for (const name of requirementVars[requirement]) {
      if (!(name in cleaned) && !problems.some((p) => p.startsWith(`${name} `))) problems.push(`${name} is required`);
    }
  }
  if (parsed.success && parsed.data.PUBLIC_URL && !parsed.data.TELEGRAM_WEBHOOK_SECRET && requirements.includes("telegram")) {
    problems.push("TELEGRAM_WEBHOOK_SECRET is required when PUBLIC_URL is set (Telegram sends it back on every update)");
  }
  if (problems.length > 0 || !parsed.success) {
    throw new AppError("config", `Configuration is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`, {
      details: { problems },
    });
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    telegramBotToken: e.TELEGRAM_BOT_TOKEN,
    telegramChatId: e.TELEGRAM_CHAT_ID,
    telegramApiRoot: e.TELEGRAM_API_ROOT,
    telegramWebhookSecret: e.TELEGRAM_WEBHOOK_SECRET,
    telegramRatePerMinute: e.TELEGRAM_RATE_PER_MINUTE,
    // Unset: the budget spread evenly over the minute (3 s at 20/min), so a storm's edits keep
    // flowing instead of 20 going out in a burst and the rest waiting most of a minute.
    telegramMinIntervalMs: e.TELEGRAM_MIN_INTERVAL_MS ?? Math.ceil(60_000 / e.TELEGRAM_RATE_PER_MINUTE),
    rollupThreshold: e.ROLLUP_THRESHOLD,
    publicUrl: e.PUBLIC_URL,
    hookToken: e.HOOK_TOKEN,
    hookMaxBytes: e.HOOK_MAX_BYTES,
    deliveryRetentionDays: e.DELIVERY_RETENTION_DAYS,
    approverIds: e.APPROVER_IDS,
    approverAdmins: e.APPROVER_ADMINS,
    buttonTtlMinutes: e.BUTTON_TTL_MINUTES,
    execAllowlist: e.EXEC_ALLOWLIST,
    prometheusUrl: e.PROMETHEUS_URL,
    loopProtectionFailures: e.LOOP_PROTECTION_FAILURES,
    execPassEnv: e.EXEC_PASS_ENV,
    trustThresholds: e.TRUST_THRESHOLDS,
    topicsDir: e.TOPICS_DIR,
    runbooksDir: e.RUNBOOKS_DIR,
    alertmanagerUrl: e.ALERTMANAGER_URL,
    qdrantUrl: e.QDRANT_URL,
    qdrantApiKey: e.QDRANT_API_KEY,
    qdrantCollection: e.QDRANT_COLLECTION,
    ollamaHost: e.OLLAMA_HOST,
    ollamaEmbedModel: e.OLLAMA_EMBED_MODEL,
    runbookMinSimilarity: e.RUNBOOK_MIN_SIMILARITY,
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
    workerConcurrency: e.WORKER_CONCURRENCY,
    executionConcurrency: e.EXECUTION_CONCURRENCY,
  };
}

function isSecretVar(name: string): boolean {
  return /TOKEN|SECRET|PASSWORD|KEY/.test(name);
}

/** Environment variables documented in the README, in the order shown there. */
export const configVariables = Object.keys(envSchema.shape);
