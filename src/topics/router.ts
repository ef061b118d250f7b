import { matchesAll } from "../util/matchers.ts";
import type { TopicConfig, TopicRule, TopicsConfig } from "./config.ts";

/** What routing looks at; every normalized signal (alert, incident, deployment, update) has these. */
export interface RoutableSignal {
  source: string;
  kind?: string | undefined;
  /** Falls back to the `severity` label when absent. */
  severity?: string | null | undefined;
  labels: Readonly<Record<string, string>>;
}

export interface Route {
  key: string;
  /** Why, for logs and cards: `critical: severity in [critical]`, or `default`. */
  rule: string;
}

/**
 * The first topic in priority order with a matching rule wins; otherwise the default topic.
 * Pure: matchers were compiled when the config was loaded, so this only compares strings.
 */
export function routeSignal(config: TopicsConfig, signal: RoutableSignal): Route {
  const facts = {
    severity: lower(signal.severity ?? labelOf(signal.labels, "severity")),
    source: lower(signal.source),
    kind: lower(signal.kind),
    labels: signal.labels,
  };
  for (const topic of config.topics) {
    const rule = firstMatchingRule(topic, facts);
    if (rule) return { key: topic.key, rule: `${topic.key}: ${rule.description}` };
  }
  return { key: config.defaultKey, rule: "default" };
}

interface Facts {
  severity: string | undefined;
  source: string | undefined;
  kind: string | undefined;
  labels: Readonly<Record<string, string>>;
}

function firstMatchingRule(topic: TopicConfig, facts: Facts): TopicRule | undefined {
  return topic.rules.find((rule) => ruleMatches(rule, facts));
}

function ruleMatches(rule: TopicRule, facts: Facts): boolean {
  // A condition on a field the signal does not have fails: an alert without a severity is not critical.
  if (rule.severity && (facts.severity === undefined || !rule.severity.includes(facts.severity))) return false;
  if (rule.source && (facts.source === undefined || !rule.source.includes(facts.source))) return false;
  if (rule.kind && (facts.kind === undefined || !rule.kind.includes(facts.kind))) return false;
  return matchesAll(facts.labels, rule.labels);
}

function lower(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim().toLowerCase();
  return trimmed === "" ? undefined : trimmed;
}

function labelOf(labels: Readonly<Record<string, string>>, name: string): string | undefined {
  return Object.hasOwn(labels, name) ? labels[name] : undefined;
}
