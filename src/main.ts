import { serve, type ServerType } from "@hono/node-server";
import { Redis } from "ioredis";
import type { Bot } from "grammy";
import type { BotContext } from "./telegram/bot.ts";
import type { Config } from "./config.ts";
import { createDatabase, type Database } from "./db/client.ts";
import { ensureDatabase } from "./db/migrate.ts";
import { errorMessage } from "./errors.ts";
import { createIngest, createIngestStore } from "./ingest/index.ts";
import { createHash } from "node:crypto";
import { createExecutor, planExecution } from "./agent/index.ts";
import { createDecisionActions } from "./decisions/actions.ts";
import { createAlertmanagerClient } from "./decisions/alertmanager.ts";
import { createApprovers, type Approvers } from "./decisions/approvers.ts";
import { createDecider } from "./decisions/card.ts";
import { createCardExtras } from "./jobs/card-extras.ts";
import { createExecuteProcessor } from "./jobs/execute.ts";
import { createLibraryHolder, type LibraryHolder } from "./runbooks/library-holder.ts";
import { secretEnvName } from "./runbooks/template.ts";
import { createCallbackCodec } from "./telegram/callback-data.ts";
import { approvalsFeature } from "./telegram/features/approvals.ts";
import { modifyFeature } from "./telegram/features/modify.ts";
import { trustFeature } from "./telegram/features/trust.ts";
import { thresholdsFrom } from "./trust/service.ts";
import { createGroupProcessor } from "./jobs/process-group.ts";
import { createQueues, type Queues } from "./jobs/queues.ts";
import { createWorkers, type Workers } from "./jobs/workers.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createApp } from "./server/app.ts";
import { botCommands, createBot, telegramWebhookHandler } from "./telegram/bot.ts";
import { createDispatcher, type Dispatcher } from "./telegram/outbox/dispatcher.ts";
import { createRunbooks, type RunbookService } from "./runbooks/index.ts";
import { createChatRateLimiter } from "./telegram/rate-limit.ts";
import { sleep } from "./util/sleep.ts";
import { withTimeout } from "./util/with-timeout.ts";
import { installTransport } from "./telegram/transport.ts";
import { loadTopics, routeSignal, type TopicsConfig } from "./topics/index.ts";
import { createTopicRegistry, type TopicRegistry } from "./topics/registry.ts";

export interface ServiceOptions {
  /** Serve the hooks and the Telegram webhook (health and metrics are served in every mode). */
  web: boolean;
  /** Run the BullMQ workers and the outbox dispatcher. */
  workers: boolean;
  /** Receive Telegram updates: through the webhook when PUBLIC_URL is set, else by long polling if `poll`. */
  telegramUpdates: boolean;
  /**
   * Long polling is allowed (only one process may poll a bot): `serve`, the single-process mode.
   * `web` scales out, so without PUBLIC_URL it receives no updates.
   */
  poll?: boolean;
  logger?: Logger;
  /** How long the outbox leases a row while it is sent (default 30 s); tests shorten it. */
  outboxLeaseSeconds?: number;
}

export interface Service {
  config: Config;
  logger: Logger;
  database: Database;
  redis: Redis;
  metrics: Metrics;
  bot: Bot<BotContext>;
  queues: Queues;
  topics: TopicsConfig;
  topicRegistry: TopicRegistry;
  workers?: Workers;
  dispatcher?: Dispatcher;
  /** Present once runbook search has started (workers only). */
  runbooks(): RunbookService | undefined;
  server?: ServerType;
  /** The port the HTTP server listens on (useful with PORT=0 in tests). */
  port?: number;
  stop(): Promise<void>;
}

/**
 * The only place clients are built and wired together. Everything else takes its dependencies as
 * arguments. Telegram being unreachable does not stop the service: alerts are stored and wait in
 * the outbox until it answers again.
 */
export async function startService(config: Config, options: ServiceOptions): Promise<Service> {
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, secrets: [config.telegramBotToken, config.hookToken, config.telegramWebhookSecret] });
  const chatId = config.telegramChatId!;
  const topics = loadTopics(config.topicsDir);

  await ensureDatabase(config.databaseUrl, logger);
  // The pool serves every job's transaction plus the reads it makes beside it, and ingest too.
  const database = createDatabase(config.databaseUrl, { max: config.workerConcurrency + 10 });
  const { sql } = database;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
  const metrics = createMetrics();

  const limiter = createChatRateLimiter(redis, {
    perMinute: config.telegramRatePerMinute,
    minIntervalMs: config.telegramMinIntervalMs,
    prefix: config.queuePrefix,
  });
  const queues = createQueues(redis, config.queuePrefix);
  const thresholds = thresholdsFrom(config.trustThresholds);
  // Buttons carry a MAC keyed by a secret only this deployment has (derived from the bot token).
  const codec = createCallbackCodec(createHash("sha256").update(`topicops-buttons:${config.telegramBotToken}`).digest("hex"));
  const alertmanager = config.alertmanagerUrl ? createAlertmanagerClient({ url: config.alertmanagerUrl }) : undefined;
  const actions = createDecisionActions({ sql, chatId, logger, ...(alertmanager ? { alertmanager } : {}) });
  let runbooks: RunbookService | undefined;
  // Processes that receive Telegram updates read the runbook files for Modify even without search.
  let libraryHolder: LibraryHolder | undefined;
  const library = () => runbooks?.library() ?? libraryHolder?.current();
  let approvers: Approvers | undefined;
  let transport: ReturnType<typeof installTransport> | undefined;
  const bot = createBot({
    token: config.telegramBotToken!,
    apiRoot: config.telegramApiRoot,
    chatId,
    sql,
    logger,
    configureApi: (api) => {
      transport = installTransport(api, { limiter, metrics, logger });
    },
    features: (api) => {
      approvers = createApprovers({ ids: config.approverIds, admins: config.approverAdmins, api, chatId });
      return [
        modifyFeature({ sql, library, queues }),
        approvalsFeature({ sql, codec, approvers, actions, queues, logger }),
        trustFeature({ sql, library, approvers, thresholds }),
      ];
    },
  });
  const topicRegistry = createTopicRegistry({
    sql,
    api: bot.api,
    chatId,
    topics: topics.topics,
    defaultKey: topics.defaultKey,
    logger,
  });
  const stopping = new AbortController();
  const background: Promise<unknown>[] = [];

  let workers: Workers | undefined;
  let dispatcher: Dispatcher | undefined;
  let server: ServerType | undefined;
  let port: number | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    stopping.abort();
    // Stopping long polling makes one more getUpdates call; an unreachable Telegram must not hold up the exit.
    if (bot.isRunning()) await withTimeout(bot.stop(), 5000, "Telegram did not answer").catch(() => {});
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    await dispatcher?.stop();
    await workers?.close();
    await runbooks?.stop();
    libraryHolder?.stop();
    await Promise.allSettled(background);
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
    await database.close();
    logger.info("stopped");
  };

  // Whatever fails while starting, what was already started is stopped again, so the process can
  // exit (and be restarted) instead of hanging half-started.
  try {
    if (options.workers) {
      // Runbook search gets a few seconds to start before the workers do, so cards carry suggestions
      // from the first one; past that it goes on in the background: Qdrant or Ollama being slow or
      // down must not hold up alert cards (they go out saying suggestions follow, and get them later).
      const searchStarted = untilDone(
        "start runbook search",
        async () => {
          const service = await createRunbooks(config, { sql, logger });
          await service.start();
          runbooks = service;
          await workers?.sweep();
        },
        logger,
        stopping.signal,
      );
      background.push(searchStarted);
      await Promise.race([searchStarted, sleep(10_000)]);
      const decide = createDecider({
        runbooks: () => runbooks,
        codec,
        buttonTtlMinutes: config.buttonTtlMinutes,
        silences: alertmanager !== undefined,
        loopProtectionFailures: config.loopProtectionFailures,
        plan: (runbook, values) => planExecution(runbook, values).steps.map((step) => step.text),
      });
      const processGroup = createGroupProcessor({
        sql,
        chatId,
        route: (signal) => routeSignal(topics, signal),
        logger,
        extras: createCardExtras({ runbooks: () => runbooks, decide, logger }),
      });
      const executor = createExecutor({
        allowlist: config.execAllowlist,
        ...(config.prometheusUrl ? { prometheusUrl: config.prometheusUrl } : {}),
        secrets: (name) => process.env[secretEnvName(name)],
        passEnv: config.execPassEnv,
        logger,
      });
      workers = createWorkers({
        connection: redis,
        prefix: config.queuePrefix,
        concurrency: config.workerConcurrency,
        sql,
        queues,
        processGroup,
        logger,
        canSuggest: () => runbooks !== undefined,
        deliveryRetentionDays: config.deliveryRetentionDays,
        execute: createExecuteProcessor({ sql, chatId, executor, runbooks: () => runbooks, queues, thresholds, logger }),
        executionConcurrency: config.executionConcurrency,
        runbooks: () => runbooks,
      });
      dispatcher = createDispatcher({
        sql,
        api: bot.api,
        transport: transport!,
        limiter,
        topics: topicRegistry,
        chatId,
        rollupThreshold: config.rollupThreshold,
        ...(options.outboxLeaseSeconds !== undefined ? { leaseSeconds: options.outboxLeaseSeconds } : {}),
        logger,
        metrics,
      });
      await workers.start();
      await dispatcher.start();
      background.push(untilDone("make sure the forum topics exist", () => topicRegistry.ensureAll(), logger, stopping.signal));
    }

    // Every process serves HTTP: web processes the hooks and the Telegram webhook, and every one of
    // them /healthz, /readyz and /metrics — a worker's Telegram and card counters live in the worker.
    const webhookMode = options.telegramUpdates && config.publicUrl !== undefined;
    const ingest = options.web ? createIngest({ store: createIngestStore(sql), queues, logger, metrics }) : undefined;
    const app = createApp({
      logger,
      metrics,
      ...(ingest ? { hooks: { hookToken: config.hookToken!, maxBytes: config.hookMaxBytes, ingest, metrics } } : {}),
      readiness: {
        postgres: () => sql`select 1`,
        redis: () => redis.ping(),
      },
      beforeScrape: async () => {
        for (const queue of queues.all()) {
          const counts = await queue.getJobCounts("waiting", "active", "delayed", "failed", "prioritized");
          for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ queue: queue.name, state }, n);
        }
        const rows = await sql<{ chat_id: number; n: number }[]>`select chat_id, count(*)::int as n from outbox group by chat_id`;
        metrics.outboxPending.reset();
        for (const r of rows) metrics.outboxPending.set({ chat: String(r.chat_id) }, r.n);
      },
      ...(webhookMode ? { telegramWebhook: telegramWebhookHandler(bot, config.telegramWebhookSecret!) } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
        port = info.port;
        resolve();
      });
      server.once("error", reject);
    });
    logger.info({ port, host: config.host, hooks: options.web }, "listening");

    if (options.telegramUpdates) {
      if (!options.workers) {
        libraryHolder = createLibraryHolder(config.runbooksDir, logger);
        await libraryHolder.start();
      }
      background.push(
        untilDone(
          "set the bot's commands",
          () => bot.api.setMyCommands(botCommands, { scope: { type: "chat", chat_id: chatId } }),
          logger,
          stopping.signal,
        ),
      );
      if (webhookMode) {
        background.push(
          untilDone(
            "register the Telegram webhook",
            () =>
              bot.api.setWebhook(`${config.publicUrl}/telegram`, {
                secret_token: config.telegramWebhookSecret!,
                allowed_updates: ["message", "callback_query", "my_chat_member"],
              }),
            logger,
            stopping.signal,
          ),
        );
      } else {
        background.push(
          untilDone(
            "start long polling for Telegram updates",
            async () => {
              await bot.init();
              // bot.start resolves only when polling stops; errors inside polling are retried by grammY.
              void bot.start({ allowed_updates: ["message", "callback_query", "my_chat_member"] }).catch((error) => {
                logger.error({ err: error }, "long polling stopped");
              });
            },
            logger,
            stopping.signal,
          ),
        );
      }
    }

  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }

  return {
    config,
    logger,
    database,
    redis,
    metrics,
    bot,
    queues,
    topics,
    topicRegistry,
    ...(workers ? { workers } : {}),
    ...(dispatcher ? { dispatcher } : {}),
    runbooks: () => runbooks,
    ...(server ? { server } : {}),
    ...(port !== undefined ? { port } : {}),
    stop,
  };
}

/** Retries a start-up chore in the background until it works, without holding up the service. */
async function untilDone(what: string, task: () => Promise<unknown>, logger: Logger, signal: AbortSignal): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await task();
      return;
    } catch (error) {
      const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
      logger.warn({ attempt, retryInMs: delay, err: error }, `could not ${what}: ${errorMessage(error)}`);
      await sleep(delay, signal).catch(() => {});
    }
  }
}
