import { z } from "zod";
import { AppError } from "../errors.ts";
import { labelsFingerprint } from "./fingerprint.ts";
import type { AlertGroupSignal, AlertSignal, AlertStatus, Labels } from "./types.ts";

/*
 * Alertmanager webhook (format version 4), and the older or re-serialised variants seen in the wild
 * (prometheus_bot, prometheus-msteams, Grafana OnCall, Zulip test fixtures).
 *
 * Policy: fields we act on (alerts, labels, times, statuses, truncatedAlerts, receiver) are checked
 * strictly, because a wrong guess there files an alert under the wrong identity or state. Fields we
 * only display (externalURL, generatorURL, notification_reason, version) are tolerated: a value of
 * the wrong type becomes null and a warning, rather than losing the whole notification.
 * `null` is treated like an absent field throughout: Go encodes nil maps as null.
 */

/**
 * Upper bound on alerts per webhook. Alertmanager's own `max_alerts` is unlimited by default, so
 * a busy group could otherwise turn one request into an unbounded amount of work and storage.
 */
export const maxAlertsPerWebhook = 10_000;

export interface ParseAlertmanagerOptions {
  /**
   * The moment against which an alert without `status` is judged by its `endsAt`. Defaults to the
   * current time; pass it to make parsing repeatable (tests, replays of stored payloads).
   */
  now?: Date;
}

/**
 * Normalizes an Alertmanager webhook body (the result of `JSON.parse`). Pure apart from reading the
 * clock when `options.now` is not given. Throws `AppError("invalid_payload")` naming the JSON path
 * of every problem: the first three in the message, up to 100 in `details.problems`.
 */
export function parseAlertmanager(body: unknown, options: ParseAlertmanagerOptions = {}): AlertGroupSignal {
  const data = validate(body);
  const nowMs = (options.now ?? new Date()).getTime();
  const notes: Notes = {
    coerced: [],
    fingerprintMissing: [],
    fingerprintInvalid: [],
    statusDerived: [],
    generatorUrlIgnored: [],
  };

  const alerts = data.alerts.map((raw, index) => toAlertSignal(raw, index, nowMs, notes));
  for (const name of ["groupLabels", "commonLabels", "commonAnnotations"] as const) {
    notes.coerced.push(...data[name].coerced.map((key) => formatPath([name, key])));
  }
  const warnings = noteWarnings(notes, alerts.length);

  const receiver = data.receiver ?? "";
  if (data.receiver === null) warnings.push(`receiver is missing; using ""`);

  const groupLabels = data.groupLabels.values;
  let groupKey: string;
  if (typeof data.groupKey === "string" && data.groupKey !== "") {
    groupKey = data.groupKey;
  } else {
    groupKey = deriveGroupKey(receiver, groupLabels);
    const derived = JSON.stringify(groupKey);
    warnings.push(`${groupKeyOddity(data.groupKey)}; derived ${derived} from receiver and groupLabels`);
  }

  const firingCount = alerts.filter((alert) => alert.status === "firing").length;
  let status: AlertStatus;
  if (data.status) {
    status = data.status;
    if (status === "resolved" && firingCount > 0) {
      const verb = firingCount === 1 ? "is" : "are";
      warnings.push(
        `status is "resolved" but ${countOf(firingCount, alerts.length)} ${verb} firing; ` +
          `each alert's own status is what counts`,
      );
    }
  } else {
    status = firingCount > 0 ? "firing" : "resolved";
    warnings.push(`status is missing; derived "${status}" from the alerts`);
  }

  let version = "";
  if (data.version === undefined || data.version === null) {
    warnings.push(`version is missing; read as version 4`);
  } else if (typeof data.version === "string" || typeof data.version === "number") {
    version = String(data.version);
    if (version !== "4") {
      warnings.push(`version is ${JSON.stringify(version)}, not "4"; read as version 4 as far as its fields allow`);
    }
  } else {
    warnings.push(`version is not a string or number (got ${describe(data.version)}); read as version 4`);
  }

  const externalUrl = displayString(data.externalURL);
  if (externalUrl.ignored) warnings.push(`externalURL is not a string (got ${describe(data.externalURL)}); ignored`);
  const notificationReason = displayString(data.notification_reason);
  if (notificationReason.ignored) {
    warnings.push(`notification_reason is not a string (got ${describe(data.notification_reason)}); ignored`);
  }

  return {
    source: "alertmanager",
    groupKey,
    receiver,
    status,
    groupLabels,
    commonLabels: data.commonLabels.values,
    commonAnnotations: data.commonAnnotations.values,
    externalUrl: externalUrl.value,
    truncatedAlerts: data.truncatedAlerts,
    notificationReason: notificationReason.value,
    version,
    alerts,
    warnings,
  };
}

/** Paths of tolerated oddities, gathered while reading and reported as one warning per kind. */
interface Notes {
  coerced: string[];
  fingerprintMissing: string[];
  fingerprintInvalid: string[];
  statusDerived: string[];
  generatorUrlIgnored: string[];
}

function toAlertSignal(raw: RawAlert, index: number, nowMs: number, notes: Notes): AlertSignal {
  const at = `alerts[${index}]`;
  notes.coerced.push(...raw.labels.coerced.map((key) => formatPath(["alerts", index, "labels", key])));
  notes.coerced.push(...raw.annotations.coerced.map((key) => formatPath(["alerts", index, "annotations", key])));
  const labels = raw.labels.values;

  let fingerprint: string;
  let fingerprintComputed = false;
  if (typeof raw.fingerprint === "string" && /^[0-9a-fA-F]{16}$/.test(raw.fingerprint)) {
    fingerprint = raw.fingerprint.toLowerCase();
  } else {
    // A sent value is an identity only if it has Alertmanager's shape; the computed one is what
    // Alertmanager itself would have sent for these labels.
    fingerprint = labelsFingerprint(labels);
    fingerprintComputed = true;
    const missing = raw.fingerprint === undefined || raw.fingerprint === null || raw.fingerprint === "";
    (missing ? notes.fingerprintMissing : notes.fingerprintInvalid).push(at);
  }

  let status: AlertStatus;
  if (raw.status) {
    status = raw.status;
  } else {
    // Alertmanager's own rule (types.Alert.Resolved): resolved once EndsAt is set and not after now.
    const endsAtMs = raw.endsAt && !raw.endsAt.zero ? raw.endsAt.ms : null;
    status = endsAtMs !== null && endsAtMs <= nowMs ? "resolved" : "firing";
    notes.statusDerived.push(at);
  }

  // A firing alert's endsAt is only an estimate (older Alertmanagers sent now + resolve_timeout;
  // newer ones zero it), so only a resolved alert carries an end time.
  const endsAt = status === "resolved" && raw.endsAt && !raw.endsAt.zero ? new Date(raw.endsAt.ms) : null;
  const startsAt = new Date(raw.startsAt.ms);

  const generatorUrl = displayString(raw.generatorURL);
  if (generatorUrl.ignored) notes.generatorUrlIgnored.push(at);

  return {
    fingerprint,
    fingerprintComputed,
    dedupeKey: `alertmanager:${fingerprint}:${startsAt.toISOString()}`,
    status,
    startsAt,
    endsAt,
    alertname: raw.labels.alertname,
    // An empty label is no label in Prometheus.
    severity: labels["severity"] ? labels["severity"].toLowerCase() : null,
    labels,
    annotations: raw.annotations.values,
    generatorUrl: generatorUrl.value,
  };
}

/** One warning per kind of oddity, however many alerts had it: 10,000 alerts must not mean 10,000 lines. */
function noteWarnings(notes: Notes, total: number): string[] {
  const warnings: string[] = [];
  if (notes.fingerprintMissing.length > 0) {
    warnings.push(
      `fingerprint missing in ${countOf(notes.fingerprintMissing.length, total)} ` +
        `(${listPaths(notes.fingerprintMissing)}); computed from the labels as Alertmanager does`,
    );
  }
  if (notes.fingerprintInvalid.length > 0) {
    warnings.push(
      `fingerprint is not 16 hex digits in ${listPaths(notes.fingerprintInvalid)}; computed from the labels instead`,
    );
  }
  if (notes.statusDerived.length > 0) {
    warnings.push(
      `status missing in ${countOf(notes.statusDerived.length, total)} (${listPaths(notes.statusDerived)}); ` +
        `derived from endsAt`,
    );
  }
  if (notes.coerced.length > 0) {
    const what =
      notes.coerced.length === 1
        ? "1 value was a number or boolean and is kept as a string"
        : `${notes.coerced.length} values were numbers or booleans and are kept as strings`;
    warnings.push(`${what} (${listPaths(notes.coerced)})`);
  }
  if (notes.generatorUrlIgnored.length > 0) {
    warnings.push(`generatorURL is not a string in ${listPaths(notes.generatorUrlIgnored)}; ignored`);
  }
  return warnings;
}

/*
 * Alertmanager's groupKey is "<route path>:<group labels>", stable for the life of an aggregation
 * group. Senders without one (absent, empty) or with a legacy numeric one (v3 sent a hash; some
 * senders send 0 for every group, and large numbers lose precision in JSON.parse anyway) still need
 * an identity that is the same for every notification of one group. The route path is not in the
 * body, so the receiver stands in for it; the group labels are sorted because object key order is
 * not guaranteed by every sender, and values are JSON-quoted so that no value can forge a separator.
 */
function deriveGroupKey(receiver: string, groupLabels: Labels): string {
  const pairs = Object.entries(groupLabels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return `derived:${receiver}:{${pairs.join(", ")}}`;
}

function groupKeyOddity(groupKey: unknown): string {
  if (groupKey === undefined || groupKey === null) return "groupKey is missing";
  if (groupKey === "") return "groupKey is empty";
  if (typeof groupKey === "number") {
    // Not echoed: a large one has already lost digits in JSON.parse, and would mislead.
    return `groupKey is a number, not Alertmanager's "<route>:<group labels>" string (legacy senders send a hash or 0)`;
  }
  return `groupKey is not a string (got ${describe(groupKey)})`;
}

// ---- validation -------------------------------------------------------------------------------

const maxProblemsInMessage = 3;

type RawWebhook = z.output<typeof webhookSchema>;
type RawAlert = RawWebhook["alerts"][number];

function validate(body: unknown): RawWebhook {
  if (!isPlainObject(body)) {
    throw invalid(`body is not an Alertmanager webhook: expected a JSON object, got ${describe(body)}`);
  }
  const alerts = body["alerts"];
  if (!Array.isArray(alerts)) {
    const got = alerts === undefined ? "but it is missing" : `got ${describe(alerts)}`;
    throw invalid(`body is not an Alertmanager webhook: "alerts" must be an array, ${got}`);
  }
  if (alerts.length === 0) {
    throw invalid(`body has no alerts: "alerts" is an empty array, so there is nothing to show`);
  }
  // Checked before validating each alert so an oversized body costs nothing more to refuse.
  if (alerts.length > maxAlertsPerWebhook) {
    throw invalid(
      `body has ${alerts.length} alerts, more than the ${maxAlertsPerWebhook} accepted in one webhook; ` +
        `set max_alerts on the Alertmanager webhook receiver`,
    );
  }

  const parsed = webhookSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
  const shown = problems.slice(0, maxProblemsInMessage).join("; ");
  const more = problems.length - maxProblemsInMessage;
  const message = more > 0 ? `${shown}; and ${more} more ${more === 1 ? "problem" : "problems"}` : shown;
  throw new AppError("invalid_payload", message, { details: { problems: problems.slice(0, 100) } });
}

/** What a field reader yields: a value, or problems phrased to follow the field's JSON path. */
type Read<T> = { ok: true; value: T } | { ok: false; problems: Array<{ path: string[]; message: string }> };

const ok = <T>(value: T): Read<T> => ({ ok: true, value });
const problem = <T>(message: string, path: string[] = []): Read<T> => ({ ok: false, problems: [{ path, message }] });

/*
 * zod walks the structure and collects every issue with its path; the readers below decide what
 * an acceptable value is and phrase the reason, so the caller reads "alerts[0].labels.alertname is
 * missing" rather than a schema dump.
 */
function field<T>(read: (input: unknown) => Read<T>) {
  return z
    .unknown()
    .optional()
    .transform((input, ctx): T => {
      const result = read(input);
      if (result.ok) return result.value;
      for (const { path, message } of result.problems) ctx.addIssue({ code: "custom", message, path, input });
      return z.NEVER;
    });
}

const statusSchema = z
  .enum(["firing", "resolved"], {
    error: (issue) => `must be "firing" or "resolved", got ${describe(issue.input)}`,
  })
  .nullish();

interface StringMap {
  values: Labels;
  /** Keys whose values were numbers or booleans, kept as their string form. */
  coerced: string[];
}

/*
 * Label and annotation values are strings in Alertmanager. Hand-written or proxied payloads
 * sometimes carry numbers or booleans; those have one obvious string form (the same digits a
 * templating sender would have produced), so they are kept, with a warning. Objects, arrays and
 * null have no such form and are refused rather than guessed at.
 */
function readStringMap(input: unknown): Read<StringMap> {
  if (input === undefined || input === null) return ok({ values: {}, coerced: [] });
  if (!isPlainObject(input)) return problem(`must be an object of strings, got ${describe(input)}`);
  const entries: Array<[string, string]> = [];
  const coerced: string[] = [];
  const problems: Array<{ path: string[]; message: string }> = [];
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === "string") {
      entries.push([key, value]);
    } else if (typeof value === "number" || typeof value === "boolean") {
      entries.push([key, String(value)]);
      coerced.push(key);
    } else {
      problems.push({ path: [key], message: `must be a string, got ${describe(value)}` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  // fromEntries defines own properties, so a label named "__proto__" stays a label instead of
  // silently changing the object's prototype (labels are attacker-influenced text).
  return ok({ values: Object.fromEntries(entries), coerced });
}

function readLabels(input: unknown): Read<StringMap & { alertname: string }> {
  if (input === undefined) return problem("is missing");
  if (input === null) return problem(`must be an object of strings, got null`);
  const map = readStringMap(input);
  if (!map.ok) return map;
  const alertname = map.value.values["alertname"];
  if (alertname === undefined) return problem("is missing", ["alertname"]);
  if (alertname === "") return problem("is empty", ["alertname"]);
  return ok({ ...map.value, alertname });
}

interface Instant {
  ms: number;
  /** Go's zero time.Time, which Alertmanager sends for "not set". */
  zero: boolean;
}

function readStartsAt(input: unknown): Read<Instant> {
  if (input === undefined || input === null || input === "") return problem("is missing");
  const instant = typeof input === "string" ? parseRfc3339(input) : null;
  if (!instant) return problem(`is not an RFC 3339 time: ${describe(input)}`);
  // The start time is half of the alert's identity; with the zero time every episode of an alert
  // would collapse into one record. Alertmanager itself never sends it.
  if (instant.zero) return problem(`is the zero time ${describe(input)}; an alert needs a real start time`);
  return ok(instant);
}

function readEndsAt(input: unknown): Read<Instant | null> {
  // Go cannot even decode "" into a time, but hand-built payloads use it for "no end"; it means the same.
  if (input === undefined || input === null || input === "") return ok(null);
  const instant = typeof input === "string" ? parseRfc3339(input) : null;
  if (!instant) return problem(`is not an RFC 3339 time: ${describe(input)}`);
  return ok(instant);
}

function readReceiver(input: unknown): Read<string | null> {
  if (input === undefined || input === null) return ok(null);
  if (typeof input !== "string") return problem(`must be a string, got ${describe(input)}`);
  return ok(input);
}

function readTruncatedAlerts(input: unknown): Read<number> {
  if (input === undefined || input === null) return ok(0);
  if (typeof input !== "number" || !Number.isSafeInteger(input) || input < 0) {
    return problem(`must be a whole number >= 0, got ${describe(input)}`);
  }
  return ok(input);
}

const alertSchema = z.object(
  {
    status: statusSchema,
    labels: field(readLabels),
    annotations: field(readStringMap),
    startsAt: field(readStartsAt),
    endsAt: field(readEndsAt),
    fingerprint: z.unknown().optional(),
    generatorURL: z.unknown().optional(),
  },
  { error: (issue) => `must be an object, got ${describe(issue.input)}` },
);

const webhookSchema = z.object({
  receiver: field(readReceiver),
  status: statusSchema,
  alerts: z.array(alertSchema),
  groupLabels: field(readStringMap),
  commonLabels: field(readStringMap),
  commonAnnotations: field(readStringMap),
  externalURL: z.unknown().optional(),
  version: z.unknown().optional(),
  groupKey: z.unknown().optional(),
  truncatedAlerts: field(readTruncatedAlerts),
  notification_reason: z.unknown().optional(),
});

// ---- times --------------------------------------------------------------------------------------

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const zeroTimeMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z, Go's zero time.Time
const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/*
 * Date.parse accepts far more than RFC 3339 (and differs between engines), and JS dates keep only
 * milliseconds while Go sends up to nanoseconds. So the grammar is checked here, ranges included,
 * and extra fraction digits are truncated (not rounded, which could carry into the next second).
 */
function parseRfc3339(text: string): Instant | null {
  const match = rfc3339.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, sign, offsetH, offsetM] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 && leap ? 29 : daysInMonth[month - 1];
  // Go's time.Parse refuses leap seconds (:60), so they are refused here too.
  if (monthDays === undefined || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (sign !== undefined) {
    const oh = Number(offsetH);
    const om = Number(offsetM);
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (sign === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, "0"));
  // Date.UTC maps years 0-99 to 1900-1999, so the year is set separately.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  const ms = date.getTime() - offsetMinutes * 60_000;
  return { ms, zero: ms === zeroTimeMs };
}

// ---- helpers ------------------------------------------------------------------------------------

function invalid(message: string): AppError {
  return new AppError("invalid_payload", message);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A display-only string: empty means absent, and a wrong type is ignored (and reported). */
function displayString(value: unknown): { value: string | null; ignored: boolean } {
  if (typeof value === "string") return { value: value === "" ? null : value, ignored: false };
  return { value: null, ignored: value !== undefined && value !== null };
}

/** A short, quoted rendering of an offending value: enough to find it, never a flood in a log line. */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60)).slice(0, -1)}…"` : JSON.stringify(value);
  }
  return String(value);
}

/** `alerts[2].labels.alertname`, with odd keys quoted: `labels["team.name"]`. */
function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
    } else if (typeof segment === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`;
    } else {
      out += `[${JSON.stringify(String(segment))}]`;
    }
  }
  return out === "" ? "body" : out;
}

function listPaths(paths: string[], limit = 5): string {
  const shown = paths.slice(0, limit).join(", ");
  return paths.length > limit ? `${shown} and ${paths.length - limit} more` : shown;
}

function countOf(count: number, total: number): string {
  return `${count} of ${total} ${total === 1 ? "alert" : "alerts"}`;
}
