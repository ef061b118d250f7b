import type { Matcher } from "../util/matchers.ts";
import type { FileProblem } from "../util/yaml-file.ts";

/** What a runbook may do if it goes wrong; `high` always needs two approvers and never runs unattended. */
export type Risk = "low" | "medium" | "high";
export const risks: readonly Risk[] = ["low", "medium", "high"];

/** The trust ladder: what the bot does when this runbook matches. */
export type TrustLevel = "manual" | "prompted" | "standard";

export interface RunbookParam {
  name: string;
  /** May reference alert data: `{{ labels.namespace }}`, `{{ annotations.summary }}`. */
  default: string | undefined;
  /** Anchored regular expression every value must match before it reaches a step. */
  pattern: string;
  description: string | undefined;
}

export interface RetryPolicy {
  attempts: number;
  delayMs: number;
}

interface StepBase {
  name: string | undefined;
  timeoutMs: number;
  retries: RetryPolicy;
}

/** An executable and its arguments, run without a shell. Templates: `{{ param }}`. */
export interface RunStep extends StepBase {
  type: "run";
  argv: string[];
}

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface HttpRequestSpec {
  method: HttpMethod;
  /** Templates only in the path and query (values are URL-encoded) or as the whole host. */
  url: string;
  /** Templates: `{{ param }}` and `{{ secret.NAME }}` (from the environment, never logged). */
  headers: Record<string, string>;
  /** A string is sent as is; an object is sent as JSON. */
  body: string | Record<string, unknown> | undefined;
  expectStatus: number[];
}

export interface HttpStep extends StepBase {
  type: "http";
  request: HttpRequestSpec;
}

export interface WaitStep {
  type: "wait";
  name: string | undefined;
  durationMs: number;
}

/** A condition that must hold; retried every `everyMs` until `withinMs` has passed. */
export interface CheckStep {
  type: "check";
  name: string | undefined;
  withinMs: number;
  everyMs: number;
  condition:
    | { kind: "http"; request: HttpRequestSpec; bodyContains: string | undefined }
    | { kind: "prometheus"; query: string; expect: "nonempty" | "empty" };
}

export type RunbookStep = RunStep | HttpStep | WaitStep | CheckStep;

export interface RunbookMatch {
  /** Alert names this runbook is written for (exact). */
  alerts: string[];
  /** Label matchers that must all hold. */
  labels: Matcher[];
}

export interface Runbook {
  id: string;
  title: string;
  /** Path relative to the runbooks directory. */
  file: string;
  /**
   * `runbook`: front matter with steps that can run. `page`: plain markdown (a wiki page, a public
   * runbook) — suggested and read, never run.
   */
  kind: "runbook" | "page";
  match: RunbookMatch | undefined;
  risk: Risk;
  params: RunbookParam[];
  steps: RunbookStep[];
  startingLevel: TrustLevel;
  /** Other names it goes by (a page's front matter title, its file name): an alert naming one is a direct match. */
  aliases: string[];
  /** The markdown body people read and search embeds. */
  body: string;
  /** sha256 of the file's bytes: the index re-embeds a runbook only when this changes. */
  contentHash: string;
}

export interface RunbookLibrary {
  runbooks: readonly Runbook[];
  /** Problems found while loading; a file with problems is left out, the rest load. */
  problems: readonly FileProblem[];
  byId(id: string): Runbook | undefined;
  /**
   * Why the directory itself could not be read (gone, unmounted, no permission): the library is
   * empty for that reason, not because the directory holds no runbooks.
   */
  unreadable?: string;
}
