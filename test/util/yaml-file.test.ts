import { describe, expect, it } from "vitest";
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { AppError } from "../../src/errors.ts";
import {
  formatPath,
  formatProblem,
  locateInDocument,
  parseYamlFile,
  parseYamlWithSchema,
  problemsOf,
  safeParseYamlWithSchema,
  type FileProblem,
} from "../../src/util/yaml-file.ts";

const schema = z.strictObject({
  name: z.string(),
  spec: z.object({
    containers: z.array(z.object({ image: z.string(), ports: z.array(z.number()).default([]) })),
  }),
  mode: z.enum(["fast", "safe"]).optional(),
});

/** The AppError thrown for `text`, checked to be a config error. */
function failure(text: string, options?: { lineOffset?: number }): AppError {
  try {
    parseYamlWithSchema(text, schema, "deploy.yaml", options);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("config");
    return error as AppError;
  }
  throw new Error("expected parseYamlWithSchema to throw");
}

describe("parseYamlWithSchema", () => {
  it("returns the validated value", () => {
    const value = parseYamlWithSchema("name: web\nspec:\n  containers:\n    - image: nginx\n", schema, "deploy.yaml");
    expect(value).toEqual({ name: "web", spec: { containers: [{ image: "nginx", ports: [] }] } });
  });

  it("points at a wrong type deep in the structure", () => {
    const text = ["name: web", "spec:", "  containers:", "    - image: nginx", '      ports: [80, "http"]', ""].join("\n");
    const error = failure(text);
    expect(error.message).toBe('deploy.yaml is invalid:\ndeploy.yaml:5:19: spec.containers[0].ports[1]: expected number, got string "http"');
    expect(problemsOf(error)).toEqual([
      { file: "deploy.yaml", line: 5, column: 19, path: "spec.containers[0].ports[1]", message: 'expected number, got string "http"' },
    ]);
  });

  it("points a missing key at the map that should hold it", () => {
    const text = ["name: web", "spec:", "  containers:", "    - ports: [80]", ""].join("\n");
    expect(failure(text).message).toBe("deploy.yaml is invalid:\ndeploy.yaml:4:7: spec.containers[0].image: required");
    expect(failure("spec:\n  containers: []\n").message).toBe("deploy.yaml is invalid:\ndeploy.yaml:1:1: name: required");
  });

  it("points at the key when it has no value", () => {
    expect(failure("name:\nspec: {containers: []}\n").message).toBe("deploy.yaml is invalid:\ndeploy.yaml:1:1: name: expected string, got null");
  });

  it("reports YAML syntax errors with their position", () => {
    const text = ["name: web", "spec:", "  containers:", "    - image: [nginx", ""].join("\n");
    const error = failure(text);
    expect(error.message).toBe(
      "deploy.yaml is invalid:\ndeploy.yaml:5:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    );
    expect(failure("name: a\nname: b\nspec: {containers: []}\n").message).toBe("deploy.yaml is invalid:\ndeploy.yaml:2:1: Map keys must be unique");
  });

  it("lists every problem at once, in file order, with unknown keys at the key", () => {
    const text = ["nmae: web", "spec:", "  containers:", "    - image: 5", "      ports: [x]", "mode: turbo", ""].join("\n");
    const error = failure(text);
    expect(error.message).toBe(
      [
        "deploy.yaml is invalid:",
        "deploy.yaml:1:1: name: required",
        "deploy.yaml:1:1: nmae: unknown key",
        "deploy.yaml:4:14: spec.containers[0].image: expected string, got number 5",
        'deploy.yaml:5:15: spec.containers[0].ports[0]: expected number, got string "x"',
        'deploy.yaml:6:7: mode: expected one of "fast", "safe", got string "turbo"',
      ].join("\n"),
    );
    expect(problemsOf(error)).toHaveLength(5);
  });

  it("adds lineOffset to every line, for YAML embedded in another file", () => {
    // Front matter after a `---` line: YAML line 1 is line 2 of the markdown file.
    const frontMatter = ["name: 5", "spec:", "  containers: {}", ""].join("\n");
    expect(failure(frontMatter, { lineOffset: 1 }).message).toBe(
      [
        "deploy.yaml is invalid:",
        "deploy.yaml:2:7: name: expected string, got number 5",
        "deploy.yaml:4:15: spec.containers: expected a list, got a map",
      ].join("\n"),
    );
    expect(failure("name: [\n", { lineOffset: 10 }).message).toMatch(/^deploy\.yaml is invalid:\ndeploy\.yaml:1[12]:\d+: /);
  });

  it("says so when the file is empty or not a map", () => {
    expect(failure("").message).toBe("deploy.yaml is invalid:\ndeploy.yaml:1:1: expected a map, got null");
    expect(failure("- a\n- b\n").message).toBe("deploy.yaml is invalid:\ndeploy.yaml:1:1: expected a map, got a list");
  });

  it("keeps a schema's own messages", () => {
    const custom = z.object({ port: z.number().int("must be a whole number").min(1, "must be at least 1") });
    const result = safeParseYamlWithSchema("port: 0.5\n", custom, "svc.yaml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map(formatProblem)).toEqual(["svc.yaml:1:7: port: must be a whole number"]);
  });

  it("refuses alias bombs instead of expanding them", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]", ""].join("\n");
    const result = safeParseYamlWithSchema(bomb, z.unknown(), "bomb.yaml");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]!.message).toMatch(/alias/i);
  });
});

describe("locating paths", () => {
  const text = ["top:", "  list:", "    - a: 1", "    - b: {c: 2}", '  "odd.key": x', ""].join("\n");

  it("finds nodes, and the closest parent of what is missing", () => {
    const parsed = parseYamlFile(text, "f.yaml");
    expect(parsed.problems).toEqual([]);
    expect(parsed.locate(["top", "list", 1, "b", "c"])).toEqual({ line: 4, column: 14 });
    expect(parsed.locate(["top", "list", 1, "b", "missing"])).toEqual({ line: 4, column: 10 });
    expect(parsed.locate(["top", "list", 7])).toEqual({ line: 3, column: 5 });
    expect(parsed.locate(["top", "odd.key"], { atKey: true })).toEqual({ line: 5, column: 3 });
    expect(parsed.locate([])).toEqual({ line: 1, column: 1 });
  });

  it("works on a Document the caller parsed, with an offset", () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter });
    expect(locateInDocument(doc, lineCounter, ["top", "list", 0, "a"], { lineOffset: 4 })).toEqual({ line: 7, column: 10 });
  });

  it("formats paths the way people read them", () => {
    expect(formatPath(["match", 0, "labels", 2])).toBe("match[0].labels[2]");
    expect(formatPath(["labels", "app.kubernetes.io/name"])).toBe('labels["app.kubernetes.io/name"]');
    expect(formatPath([])).toBe("");
  });

  it("formats problems with whatever is known", () => {
    const problems: FileProblem[] = [
      { file: "a.yaml", line: 3, column: 5, path: "name", message: "required" },
      { file: "a.yaml", line: 3, message: "bad" },
      { file: "topics", message: "no topics" },
    ];
    expect(problems.map(formatProblem)).toEqual(["a.yaml:3:5: name: required", "a.yaml:3: bad", "topics: no topics"]);
  });
});
