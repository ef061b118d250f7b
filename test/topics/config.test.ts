import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/errors.ts";
import { loadTopics, parseTopics, topicIconColors, type TopicsConfig } from "../../src/topics/index.ts";
import { formatMatcher } from "../../src/util/matchers.ts";
import { problemsOf } from "../../src/util/yaml-file.ts";

const shippedDir = join(import.meta.dirname, "../../topics");

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A topics dir with these files; returns its path. */
function topicsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "topicops-topics-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The config error loadTopics throws for `files`, with the dir replaced by `topics` for stable messages. */
function loadError(files: Record<string, string>): { message: string; error: AppError } {
  const dir = topicsDir(files);
  try {
    loadTopics(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("config");
    return { message: (error as Error).message.split(dir).join("topics"), error: error as AppError };
  }
  throw new Error("expected loadTopics to throw");
}

const inbox = 'name: "📥 Inbox"\ndefault: true\n';

describe("the shipped topics", () => {
  const config: TopicsConfig = loadTopics(shippedDir);

  it("load, in priority order, with inbox as the default and a reports topic", () => {
    expect(config.topics.map((t) => [t.priority, t.key])).toEqual([
      [10, "critical"],
      [20, "deployments"],
      [30, "updates"],
      [40, "home-assistant"],
      [50, "infrastructure"],
      [60, "apps"],
      [900, "weekly-reports"],
      [1000, "inbox"],
    ]);
    expect(config.defaultKey).toBe("inbox");
    expect(config.reportsKey).toBe("weekly-reports");
    expect(config.byKey("inbox")?.name).toBe("📥 Inbox");
    expect(config.byKey("nope")).toBeUndefined();
    expect(config.byKey("weekly-reports")?.rules).toEqual([]);
  });

  it("have names with an emoji, valid colours, and are described", () => {
    const colours = new Set<number>(Object.values(topicIconColors));
    for (const topic of config.topics) {
      expect(topic.name).toMatch(/^\p{Extended_Pictographic}/u);
      expect(colours.has(topic.iconColor)).toBe(true);
      expect(topic.description).toBeTruthy();
    }
    expect(config.byKey("critical")?.iconColor).toBe(topicIconColors.red);
    expect(new Set(config.topics.map((t) => t.name)).size).toBe(config.topics.length);
  });

  it("precompile rules with a description of each", () => {
    const critical = config.byKey("critical")!;
    expect(critical.rules.map((r) => r.description)).toEqual(["severity in [critical, page]"]);
    expect(config.byKey("updates")!.rules.map((r) => r.description)).toEqual(["kind in [dependency_update]", "source in [forge]"]);
    const apps = config.byKey("apps")!;
    expect(apps.rules[1]!.labels.map(formatMatcher)).toEqual(['namespace!=""']);
  });
});

describe("loadTopics", () => {
  it("reads .yaml and .yml, skips other and hidden files, and fills in defaults", () => {
    const dir = topicsDir({
      "inbox.yaml": inbox,
      "alerts.yml": [
        "name: Alerts",
        "icon_color: 16478047",
        "match:",
        "  - severity: Critical",
        "    source: [AlertManager]",
        "    labels: {team: [ops, sre]}",
        "  - kind: [incident]",
        "    labels:",
        "      - 'namespace=~\"prod-.*\"'",
        "",
      ].join("\n"),
      "README.md": "# not a topic",
      ".#inbox.yaml": "garbage: [",
    });
    mkdirSync(join(dir, "sub.yaml"));
    const config = loadTopics(dir);
    expect(config.topics.map((t) => t.key)).toEqual(["alerts", "inbox"]);
    const alerts = config.byKey("alerts")!;
    expect(alerts).toMatchObject({
      name: "Alerts",
      iconColor: 16478047,
      priority: 100,
      isDefault: false,
      description: undefined,
      purpose: undefined,
      file: join(dir, "alerts.yml"),
    });
    expect(alerts.rules.map((r) => r.description)).toEqual([
      'severity in [critical] and source in [alertmanager] and team=~"ops|sre"',
      'kind in [incident] and namespace=~"prod-.*"',
    ]);
    expect(config.byKey("inbox")).toMatchObject({ iconColor: topicIconColors.blue, isDefault: true, rules: [] });
    expect(config.reportsKey).toBeUndefined();
  });

  it("breaks priority ties by key", () => {
    const config = loadTopics(
      topicsDir({ "b.yaml": "name: B\npriority: 5\nmatch: [{kind: x}]\n", "a.yaml": "name: A\npriority: 5\nmatch: [{kind: x}]\n", "z.yaml": "name: Z\npriority: 1\ndefault: true\n" }),
    );
    expect(config.topics.map((t) => t.key)).toEqual(["z", "a", "b"]);
  });

  it("refuses two defaults, at the line of each", () => {
    const { message, error } = loadError({ "inbox.yaml": inbox, "other.yaml": "name: Other\ndefault: true\n" });
    expect(message).toBe(
      [
        "Topic files in topics are invalid (2 problems):",
        "topics/inbox.yaml:2:10: default: exactly one topic must be the default, but topics/other.yaml also has default: true",
        "topics/other.yaml:2:10: default: exactly one topic must be the default, but topics/inbox.yaml also has default: true",
      ].join("\n"),
    );
    expect(problemsOf(error)).toHaveLength(2);
  });

  it("refuses no default", () => {
    expect(loadError({ "a.yaml": "name: A\n", "b.yaml": "name: B\n" }).message).toBe(
      "Topic files in topics are invalid (1 problem):\ntopics: no topic is the default: set default: true in exactly one topic (where unmatched signals go)",
    );
  });

  it("refuses an empty directory, and one that does not exist", () => {
    expect(loadError({}).message).toBe(
      "Topic files in topics are invalid (1 problem):\ntopics: no topics: add at least one <key>.yaml (and make one of them default: true)",
    );
    expect(() => loadTopics(join(tmpdir(), "topicops-does-not-exist"))).toThrow(/^topics directory .*topicops-does-not-exist cannot be read: ENOENT/);
  });

  it("refuses a file name that is not a valid key", () => {
    expect(loadError({ "inbox.yaml": inbox, "Bad Key.yaml": "name: Bad\n" }).message).toBe(
      [
        "Topic files in topics are invalid (1 problem):",
        'topics/Bad Key.yaml: file name must be <key>.yaml with a key of lowercase letters, digits, - and _ (at most 64, starting with a letter or digit); got "Bad Key"',
      ].join("\n"),
    );
    expect(loadError({ "inbox.yaml": inbox, "inbox.yml": "name: Other inbox\n" }).message).toBe(
      'Topic files in topics are invalid (1 problem):\ntopics/inbox.yml: topic key "inbox" is also defined by topics/inbox.yaml',
    );
  });

  it("refuses an unknown colour", () => {
    expect(loadError({ "inbox.yaml": `${inbox}icon_color: orange\n` }).message).toBe(
      [
        "Topic files in topics are invalid (1 problem):",
        "topics/inbox.yaml:3:13: icon_color: must be one of blue, yellow, violet, green, rose, red (or 7322096, 16766590, 13338331, 9367192, 16749490, 16478047)",
      ].join("\n"),
    );
    expect(loadError({ "inbox.yaml": `${inbox}icon_color: 123\n` }).message).toMatch(/^topics\/inbox\.yaml:3:13: icon_color: must be one of/m);
    // Names are case-insensitive.
    expect(loadTopics(topicsDir({ "inbox.yaml": `${inbox}icon_color: Violet\n` })).byKey("inbox")!.iconColor).toBe(topicIconColors.violet);
  });

  it("refuses duplicate names, whatever their case", () => {
    expect(loadError({ "inbox.yaml": inbox, "alerts.yaml": 'name: "📥 INBOX"\n' }).message).toBe(
      [
        "Topic files in topics are invalid (2 problems):",
        'topics/alerts.yaml:1:7: name: topic names must be unique, but topics/inbox.yaml is also named "📥 Inbox"',
        'topics/inbox.yaml:1:7: name: topic names must be unique, but topics/alerts.yaml is also named "📥 INBOX"',
      ].join("\n"),
    );
  });

  it("refuses a second reports topic", () => {
    expect(loadError({ "inbox.yaml": inbox, "r1.yaml": "name: R1\npurpose: reports\n", "r2.yaml": "name: R2\npurpose: reports\n" }).message).toBe(
      [
        "Topic files in topics are invalid (2 problems):",
        "topics/r1.yaml:2:10: purpose: at most one topic may have purpose: reports, but topics/r2.yaml also has it",
        "topics/r2.yaml:2:10: purpose: at most one topic may have purpose: reports, but topics/r1.yaml also has it",
      ].join("\n"),
    );
  });

  it("reports the problems of every file, not just the first bad one", () => {
    const { message, error } = loadError({
      "a.yaml": [
        "name: A",
        "default: yes",
        "match:",
        "  - severity: []",
        "  - {}",
        "  - labels: ['x=~\"(\"', 'y=1']",
        "    serverity: [x]",
        "",
      ].join("\n"),
      "b.yaml": `name: "${"x".repeat(129)}"\npriority: 1.5\npurpose: digest\n`,
      "c.yaml": "name: C\nmatch:\n  - labels: [\n",
      "d.yaml": "name: D\ndefault: true\n",
      "e.yaml": "name: D\n",
    });
    expect(message.split("\n")).toEqual([
      "Topic files in topics are invalid (11 problems):",
      'topics/a.yaml:2:10: default: expected boolean, got string "yes"',
      "topics/a.yaml:4:15: match[0].severity: expected a value or a non-empty list of values",
      "topics/a.yaml:5:5: match[1]: a rule needs at least one of severity, source, kind or labels",
      `topics/a.yaml:6:14: match[2].labels[0]: invalid matcher 'x=~"("': invalid regular expression: Unterminated group`,
      "topics/a.yaml:7:5: match[2].serverity: unknown key",
      "topics/b.yaml:1:7: name: must be at most 128 characters (Telegram's limit)",
      "topics/b.yaml:2:11: priority: must be a whole number",
      'topics/b.yaml:3:10: purpose: expected "reports", got string "digest"',
      // The YAML parser's wording is its own; what matters is the file and line.
      expect.stringMatching(/^topics\/c\.yaml:4:\d+: .*sequence/i),
      'topics/d.yaml:1:7: name: topic names must be unique, but topics/e.yaml is also named "D"',
      'topics/e.yaml:1:7: name: topic names must be unique, but topics/d.yaml is also named "D"',
    ]);
    expect(problemsOf(error)?.map((p) => p.file.split("/").pop())).toEqual(["a.yaml", "a.yaml", "a.yaml", "a.yaml", "a.yaml", "b.yaml", "b.yaml", "b.yaml", "c.yaml", "d.yaml", "e.yaml"]);
  });

  it("does not claim there is no default when the file that had it is broken", () => {
    expect(loadError({ "inbox.yaml": 'name: "📥 Inbox"\ndefault: true\nicon_colour: red\n' }).message).toBe(
      "Topic files in topics are invalid (1 problem):\ntopics/inbox.yaml:3:1: icon_colour: unknown key",
    );
  });
});

describe("parseTopics", () => {
  it("validates files held in memory", () => {
    const config = parseTopics([{ file: "mem/inbox.yaml", text: inbox }], "mem");
    expect(config.defaultKey).toBe("inbox");
    expect(() => parseTopics([], "mem")).toThrow("Topic files in mem are invalid (1 problem):\nmem: no topics");
  });
});
