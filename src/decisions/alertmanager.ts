import { AppError, errorMessage } from "../errors.ts";

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface AlertmanagerClient {
  /** POST /api/v2/silences; returns the silence id. */
  createSilence(silence: { matchers: SilenceMatcher[]; startsAt: Date; endsAt: Date; createdBy: string; comment: string }): Promise<string>;
  /** DELETE /api/v2/silence/{id}: expires it. An already expired or unknown silence is not an error. */
  expireSilence(id: string): Promise<void>;
}

/** The slice of Alertmanager's API v2 that silences need. */
export function createAlertmanagerClient(options: { url: string; fetch?: typeof fetch; timeoutMs?: number }): AlertmanagerClient {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new AppError("unavailable", `Alertmanager at ${base} did not answer: ${errorMessage(error)}`, { cause: error });
    }
  }

  return {
    async createSilence(silence) {
      const response = await call("POST", "/api/v2/silences", {
        matchers: silence.matchers,
        startsAt: silence.startsAt.toISOString(),
        endsAt: silence.endsAt.toISOString(),
        createdBy: silence.createdBy,
        comment: silence.comment,
      });
      if (!response.ok) {
        throw new AppError("unavailable", `Alertmanager refused the silence (${response.status}): ${(await response.text()).slice(0, 300)}`);
      }
      const json = (await response.json()) as { silenceID?: string };
      if (!json.silenceID) throw new AppError("unavailable", "Alertmanager did not return a silence id");
      return json.silenceID;
    },
    async expireSilence(id) {
      const response = await call("DELETE", `/api/v2/silence/${encodeURIComponent(id)}`);
      // 404: gone already; 500 with "already expired" from some versions: the same for us.
      if (response.ok || response.status === 404) return;
      const text = await response.text();
      if (/already expired|not found/i.test(text)) return;
      throw new AppError("unavailable", `Alertmanager could not expire silence ${id} (${response.status}): ${text.slice(0, 300)}`);
    },
  };
}

/**
 * What a silence from a card matches: every label the card's firing alerts share. For a one-alert
 * card that is its whole label set (exactly that alert); for a group it is what the group has in
 * common (alertname, namespace, job …), so the group stays quiet without muting its neighbours.
 */
export function silenceMatchers(alerts: readonly { labels: Record<string, string> }[]): SilenceMatcher[] {
  const [first, ...rest] = alerts;
  if (!first) return [];
  return Object.entries(first.labels)
    .filter(([k, v]) => rest.every((a) => a.labels[k] === v))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}
