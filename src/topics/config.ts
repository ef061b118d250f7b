import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { formatMatcher, matchersSchema, type Matcher } from "../util/matchers.ts";
import { problemsError, safeParseYamlWithSchema, sortProblems, type FileProblem, type YamlPosition } from "../util/yaml-file.ts";

/**
 * Standing forum topics, one `topics/<key>.yaml` each. Topics are essential: a bad topics directory
 * stops the service at start-up with every problem listed, rather than misrouting alerts later.
 */

/** The only colours Telegram accepts for a forum topic icon (createForumTopic.icon_color). */
export const topicIconColors = {
  blue: 7322096,
  yellow: 16766590,
  violet: 13338331,
  green: 9367192,
  rose: 16749490,
  red: 16478047,
} as const;

export type TopicIconColorName = keyof typeof topicIconColors;

export const topicPurposes = ["reports"] as const;
export type TopicPurpose = (typeof topicPurposes)[number];

export const TOPIC_KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const DEFAULT_TOPIC_PRIORITY = 100;

/** One entry of `match:`: every condition present must hold. Lists are lowercased at load. */
export interface TopicRule {
  severity: readonly string[] | undefined;
  source: readonly string[] | undefined;
  kind: readonly string[] | undefined;
  labels: readonly Matcher[];
  /** Why a signal matched, for logs and cards: `severity in [critical]`. */
  description: string;
}

export interface TopicConfig {
  key: string;
  /** The file it came from, for messages. */
  file: string;
  name: string;
  /** Telegram's number for the colour; blue when the file names none (Telegram's own default). */
  iconColor: number;
  priority: number;
  isDefault: boolean;
  description: string | undefined;
  purpose: TopicPurpose | undefined;
  /** Empty: the topic only receives what is sent to it directly. */
  rules: readonly TopicRule[];
}

export interface TopicsConfig {
  /** Sorted by priority, then key: the order routing tries them in. */
  topics: readonly TopicConfig[];
  defaultKey: string;
  reportsKey: string | undefined;
  byKey(key: string): TopicConfig | undefined;
}

export interface TopicFile {
  /** Path shown in messages; the key is its base name without `.yaml`/`.yml`. */
  file: string;
  text: string;
}

const colorList = Object.entries(topicIconColors);
const colorMessage = `must be one of ${colorList.map(([name]) => name).join(", ")} (or ${colorList.map(([, n]) => n).join(", ")})`;

const iconColorSchema = z.unknown().transform((value, ctx) => {
  if (typeof value === "string" && Object.hasOwn(topicIconColors, value.trim().toLowerCase())) {
    return topicIconColors[value.trim().toLowerCase() as TopicIconColorName];
  }
  if (typeof value === "number" && colorList.some(([, n]) => n === value)) return value;
  ctx.addIssue({ code: "custom", message: colorMessage, input: value });
  return z.NEVER;
});

/** `critical` or `[critical, page]`, compared case-insensitively. */
const lowercaseListSchema = z.unknown().transform((value, ctx) => {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    ctx.addIssue({ code: "custom", message: "expected a value or a non-empty list of values", input: value });
    return z.NEVER;
  }
  const out: string[] = [];
  list.forEach((item: unknown, index) => {
    if ((typeof item !== "string" && typeof item !== "number") || String(item).trim() === "") {
      ctx.addIssue({ code: "custom", message: "expected a non-empty string", path: typeof value === "string" ? [] : [index], input: item });
    } else {
      out.push(String(item).trim().toLowerCase());
    }
  });
  return [...new Set(out)];
});

const ruleSchema = z
  .strictObject({
    severity: lowercaseListSchema.optional(),
    source: lowercaseListSchema.optional(),
    kind: lowercaseListSchema.optional(),
    labels: matchersSchema.optional(),
  })
  .refine(
    (rule) => rule.severity !== undefined || rule.source !== undefined || rule.kind !== undefined || (rule.labels?.length ?? 0) > 0,
    // An empty rule would match everything and silently empty every topic after this one.
    "a rule needs at least one of severity, source, kind or labels",
  );

const topicFileSchema = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(128, "must be at most 128 characters (Telegram's limit)"),
  icon_color: iconColorSchema.optional().transform((color) => color ?? topicIconColors.blue),
  priority: z.number().int("must be a whole number").default(DEFAULT_TOPIC_PRIORITY),
  default: z.boolean().default(false),
  description: z.string().optional(),
  purpose: z.enum(topicPurposes).optional(),
  match: z.array(ruleSchema).nullable().optional(),
});

/** Reads every `*.yaml`/`*.yml` in `dir`; throws AppError("config") listing all problems in all files. */
export function loadTopics(dir: string): TopicsConfig {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a directory");
    names = readdirSync(dir);
  } catch (error) {
    throw new AppError("config", `topics directory ${dir} cannot be read: ${(error as Error).message}`, {
      cause: error,
      details: { problems: [{ file: dir, message: `cannot be read: ${(error as Error).message}` }] },
    });
  }
  const files: TopicFile[] = [];
  const problems: FileProblem[] = [];
  // Sorted so that messages and tie-breaks do not depend on the file system's order; dotfiles are
  // editor lock and backup files.
  for (const name of names.filter((n) => /\.ya?ml$/.test(n) && !n.startsWith(".")).sort()) {
    const file = join(dir, name);
    try {
      if (!statSync(file).isFile()) continue;
      files.push({ file, text: readFileSync(file, "utf8") });
    } catch (error) {
      problems.push({ file, message: `cannot be read: ${(error as Error).message}` });
    }
  }
  return parseTopics(files, dir, problems);
}

/** The checks of loadTopics over files already in memory. `where` names the set in messages. */
export function parseTopics(files: readonly TopicFile[], where: string, earlierProblems: readonly FileProblem[] = []): TopicsConfig {
  const problems: FileProblem[] = [...earlierProblems];
  const loaded: { topic: TopicConfig; locate: (path: readonly PropertyKey[]) => YamlPosition }[] = [];
  const fileByKey = new Map<string, string>();
  let failedFiles = earlierProblems.length;

  for (const { file, text } of files) {
    const key = basename(file, extname(file));
    let keyOk = true;
    if (!TOPIC_KEY_PATTERN.test(key)) {
      problems.push({ file, message: `file name must be <key>.yaml with a key of lowercase letters, digits, - and _ (at most 64, starting with a letter or digit); got "${key}"` });
      keyOk = false;
    } else if (fileByKey.has(key)) {
      problems.push({ file, message: `topic key "${key}" is also defined by ${fileByKey.get(key)}` });
      keyOk = false;
    } else {
      fileByKey.set(key, file);
    }
    const result = safeParseYamlWithSchema(text, topicFileSchema, file);
    if (!result.ok) {
      problems.push(...result.problems);
      failedFiles++;
      continue;
    }
    if (!keyOk) {
      failedFiles++;
      continue;
    }
    const data = result.value;
    loaded.push({
      topic: {
        key,
        file,
        name: data.name,
        iconColor: data.icon_color,
        priority: data.priority,
        isDefault: data.default,
        description: data.description,
        purpose: data.purpose,
        rules: (data.match ?? []).map((rule) => toRule(rule)),
      },
      locate: result.locate,
    });
  }

  const defaults = loaded.filter((t) => t.topic.isDefault);
  const others = (list: typeof loaded, self: (typeof loaded)[number]) =>
    list
      .filter((t) => t !== self)
      .map((t) => t.topic.file)
      .join(", ");
  if (defaults.length > 1) {
    for (const entry of defaults) {
      problems.push({
        file: entry.topic.file,
        ...entry.locate(["default"]),
        path: "default",
        message: `exactly one topic must be the default, but ${others(defaults, entry)} also has default: true`,
      });
    }
  }
  const reports = loaded.filter((t) => t.topic.purpose === "reports");
  if (reports.length > 1) {
    for (const entry of reports) {
      problems.push({
        file: entry.topic.file,
        ...entry.locate(["purpose"]),
        path: "purpose",
        message: `at most one topic may have purpose: reports, but ${others(reports, entry)} also has it`,
      });
    }
  }
  // Case-insensitive: two topics that differ only in case look the same in a chat list.
  const byName = new Map<string, typeof loaded>();
  for (const entry of loaded) {
    const name = entry.topic.name.toLowerCase();
    byName.set(name, [...(byName.get(name) ?? []), entry]);
  }
  for (const same of byName.values()) {
    if (same.length < 2) continue;
    for (const entry of same) {
      problems.push({
        file: entry.topic.file,
        ...entry.locate(["name"]),
        path: "name",
        message: `topic names must be unique, but ${others(same, entry)} is also named ${JSON.stringify(same.find((t) => t !== entry)!.topic.name)}`,
      });
    }
  }
  // Without every file parsed, "no default" may only mean the default's file is broken: say that instead.
  if (failedFiles === 0) {
    if (files.length === 0) {
      problems.push({ file: where, message: "no topics: add at least one <key>.yaml (and make one of them default: true)" });
    } else if (defaults.length === 0) {
      problems.push({ file: where, message: "no topic is the default: set default: true in exactly one topic (where unmatched signals go)" });
    }
  }

  if (problems.length > 0) {
    const sorted = sortProblems(problems);
    throw problemsError(`Topic files in ${where} are invalid (${sorted.length} problem${sorted.length === 1 ? "" : "s"})`, sorted);
  }

  const topics = loaded.map((t) => t.topic).sort((a, b) => a.priority - b.priority || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const index = new Map(topics.map((t) => [t.key, t]));
  return {
    topics,
    defaultKey: defaults[0]!.topic.key,
    reportsKey: reports[0]?.topic.key,
    byKey: (key) => index.get(key),
  };
}

function toRule(rule: z.output<typeof ruleSchema>): TopicRule {
  const labels = rule.labels ?? [];
  const parts: string[] = [];
  if (rule.severity) parts.push(`severity in [${rule.severity.join(", ")}]`);
  if (rule.source) parts.push(`source in [${rule.source.join(", ")}]`);
  if (rule.kind) parts.push(`kind in [${rule.kind.join(", ")}]`);
  for (const matcher of labels) parts.push(formatMatcher(matcher));
  return { severity: rule.severity, source: rule.source, kind: rule.kind, labels, description: parts.join(" and ") };
}
