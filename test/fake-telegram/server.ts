import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError } from "./api-error.ts";
import { Described, METHODS, type MethodContext } from "./methods.ts";
import { chatIdParam, readParams, type Params } from "./params.ts";
import { FloodControl, type RateLimitOptions } from "./rate-limit.ts";
import type { FakeState } from "./state.ts";

export interface ApiCall {
  /** Canonical method name (`sendMessage`), whatever case the client used. */
  method: string;
  payload: Params;
  /** Date.now() when the request arrived. */
  at: number;
  chatId?: number;
  ok: boolean;
  errorCode?: number;
  description?: string;
  retryAfter?: number;
  /** The fake dropped the connection (an injected network fault). */
  network?: true;
  /** The fake never answered (an injected hang: a black-holed connection). */
  hung?: true;
}

export type Fault = { times?: number; chatId?: number } & (
  | { errorCode: number; description: string; retryAfter?: number }
  | { network: true }
  | { hang: true }
);

interface ArmedFault {
  method: string;
  chatId: number | undefined;
  remaining: number;
  fault: Fault;
}

export interface ServerOptions {
  token: string;
  state: FakeState;
  rateLimit?: RateLimitOptions;
  strictHtml: boolean;
  serviceUpdates: boolean;
  /** Called after each call is recorded (the CLI logs them). */
  onCall?: (call: ApiCall) => void;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

function errorReply(error: ApiError): Reply {
  const body: Record<string, unknown> = { ok: false, error_code: error.errorCode, description: error.description };
  if (error.retryAfter !== undefined) body.parameters = { retry_after: error.retryAfter };
  return { status: error.errorCode, body };
}

/** The HTTP face of the fake: `/bot<token>/<method>`, answered the way api.telegram.org answers. */
export class FakeTelegramServer {
  readonly calls: ApiCall[] = [];
  private faults: ArmedFault[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly server: Server;
  private readonly flood: FloodControl | undefined;
  private readonly options: ServerOptions;

  constructor(options: ServerOptions) {
    this.options = options;
    this.flood = options.rateLimit ? new FloodControl(options.rateLimit) : undefined;
    this.server = createServer((req, res) => {
      const handling = this.handle(req, res).catch((error: unknown) => {
        // A bug in the fake itself: answer 500 so the test fails loudly instead of hanging.
        console.error("fake-telegram: internal error", error);
        if (!res.headersSent) this.send(res, errorReply(new ApiError(500, "Internal Server Error")));
      });
      this.inFlight.add(handling);
      void handling.finally(() => this.inFlight.delete(handling));
    });
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${shownHost}:${address.port}`;
  }

  addFault(method: string, fault: Fault): void {
    this.faults.push({
      method: method === "*" ? "*" : method.toLowerCase(),
      chatId: fault.chatId,
      remaining: Math.max(1, fault.times ?? 1),
      fault,
    });
  }

  clearFaults(): void {
    this.faults = [];
  }

  reset(): void {
    this.calls.length = 0;
    this.faults = [];
    this.flood?.reset();
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Released long polls still have to be written out before their sockets go.
    this.options.state.updates.close();
    await Promise.allSettled([...this.inFlight]);
    // Keep-alive sockets (grammY uses them) would otherwise hold close() open.
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", "http://fake-telegram.invalid");
    const route = /^\/bot([^/]*)\/([^/]+)\/?$/.exec(url.pathname);
    let params: Params = {};
    try {
      params = await readParams(req, url.searchParams);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.finish(res, { method: route?.[2] ?? url.pathname, payload: params, at, ok: false }, errorReply(error));
      return;
    }

    if (!route) {
      this.finish(res, { method: url.pathname, payload: params, at, ok: false }, errorReply(new ApiError(404, "Not Found")));
      return;
    }
    const [, rawToken = "", rawMethod = ""] = route;
    const spec = METHODS.get(rawMethod.toLowerCase());
    const chatParam = chatIdParam(params);
    const call: ApiCall = { method: spec?.name ?? rawMethod, payload: params, at, ok: false };
    if (typeof chatParam === "number") call.chatId = chatParam;

    if (decodeURIComponent(rawToken) !== this.options.token) {
      this.finish(res, call, errorReply(new ApiError(401, "Unauthorized")));
      return;
    }

    const fault = this.takeFault(call.method, call.chatId);
    if (fault) {
      if ("network" in fault) {
        call.network = true;
        call.description = "network fault injected: connection dropped without an answer";
        this.record(call);
        req.socket.destroy();
        return;
      }
      if ("hang" in fault) {
        // No answer until the client gives up (or the fake closes): what a black-holed route does.
        call.hung = true;
        call.description = "hang fault injected: no answer";
        this.record(call);
        return;
      }
      this.finish(res, call, errorReply(new ApiError(fault.errorCode, fault.description, fault.retryAfter)));
      return;
    }

    if (!spec) {
      this.finish(res, call, errorReply(new ApiError(404, "Not Found")));
      return;
    }

    const { state } = this.options;
    if (spec.writesToChat && this.flood && call.chatId !== undefined && state.chats.has(call.chatId)) {
      const retryAfter = this.flood.admit(call.chatId, Date.now());
      if (retryAfter > 0) {
        this.finish(res, call, errorReply(new ApiError(429, `Too Many Requests: retry after ${retryAfter}`, retryAfter)));
        return;
      }
    }

    const disconnected = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) disconnected.abort();
    });
    const ctx: MethodContext = {
      state,
      signal: disconnected.signal,
      strictHtml: this.options.strictHtml,
      serviceUpdates: this.options.serviceUpdates,
    };
    let reply: Reply;
    try {
      const outcome = await spec.run(params, ctx);
      reply =
        outcome instanceof Described
          ? { status: 200, body: { ok: true, result: outcome.result, description: outcome.description } }
          : { status: 200, body: { ok: true, result: outcome } };
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      reply = errorReply(error);
    }
    this.finish(res, call, reply);
  }

  private takeFault(method: string, chatId: number | undefined): Fault | undefined {
    const index = this.faults.findIndex(
      (armed) =>
        (armed.method === "*" || armed.method === method.toLowerCase()) &&
        (armed.chatId === undefined || armed.chatId === chatId),
    );
    const armed = this.faults[index];
    if (!armed) return undefined;
    armed.remaining--;
    if (armed.remaining <= 0) this.faults.splice(index, 1);
    return armed.fault;
  }

  private finish(res: ServerResponse, call: ApiCall, reply: Reply): void {
    call.ok = reply.body.ok === true;
    if (!call.ok) {
      call.errorCode = reply.body.error_code as number;
      call.description = reply.body.description as string;
      const parameters = reply.body.parameters as { retry_after?: number } | undefined;
      if (parameters?.retry_after !== undefined) call.retryAfter = parameters.retry_after;
    }
    this.record(call);
    this.send(res, reply);
  }

  private record(call: ApiCall): void {
    this.calls.push(call);
    this.options.onCall?.(call);
  }

  private send(res: ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    const body = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
    });
    res.end(body);
  }
}
