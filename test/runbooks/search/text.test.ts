import { describe, expect, it } from "vitest";
import { splitWords, stem, stopWords, tokenize } from "../../../src/runbooks/search/text.ts";

describe("splitWords", () => {
  it("splits alert names at camelCase and PascalCase boundaries", () => {
    expect(splitWords("KubePodCrashLooping")).toEqual(["kube", "pod", "crash", "looping"]);
    expect(splitWords("NodeFilesystemSpaceFillingUp")).toEqual(["node", "filesystem", "space", "filling", "up"]);
    expect(splitWords("etcdHighFsyncDurations")).toEqual(["etcd", "high", "fsync", "durations"]);
  });

  it("ends an acronym before the next word", () => {
    expect(splitWords("KubeAPIErrorBudgetBurn")).toEqual(["kube", "api", "error", "budget", "burn"]);
    expect(splitWords("NodeRAIDDegraded")).toEqual(["node", "raid", "degraded"]);
    expect(splitWords("HTTPServer")).toEqual(["http", "server"]);
  });

  it("splits letters from digits, keeping short mixed identifiers whole as well", () => {
    expect(splitWords("HTTP5xxErrors")).toEqual(["http", "5", "xx", "errors"]);
    expect(splitWords("k8s")).toEqual(["k", "8", "s", "k8s"]);
    expect(splitWords("ipv4 x509")).toEqual(["ipv", "4", "ipv4", "x", "509", "x509"]);
  });

  it("splits on anything that is not a letter or a digit, and folds accents", () => {
    expect(splitWords("crash-looping/pod_restart: `kubectl get pods`")).toEqual(["crash", "looping", "pod", "restart", "kubectl", "get", "pods"]);
    expect(splitWords("Café déjà-vu")).toEqual(["cafe", "deja", "vu"]);
    expect(splitWords("")).toEqual([]);
  });
});

describe("stem", () => {
  it("brings plurals and verb forms of the same word together", () => {
    expect(stem("pods")).toBe(stem("pod"));
    expect(stem("looping")).toBe("loop");
    expect(stem("entries")).toBe(stem("entry"));
    expect(new Set([stem("throttled"), stem("throttling"), stem("throttle"), stem("throttles")]).size).toBe(1);
    expect(new Set([stem("scheduled"), stem("scheduling"), stem("schedule")]).size).toBe(1);
    expect(stem("stopped")).toBe("stop");
    expect(stem("patches")).toBe("patch");
    expect(stem("processes")).toBe("process");
    expect(stem("durations")).toBe("duration");
  });

  it("leaves alone what it would only damage", () => {
    for (const word of ["status", "kubernetes", "ingress", "prometheus", "analysis", "redis", "node", "kube", "dns", "string", "speed", "exceed", "used", "k8s"]) {
      expect(stem(word), word).toBe(word);
    }
    expect(stem("added")).toBe("add");
    expect(stem("filling")).toBe("fill");
    expect(stem("missing")).toBe("miss");
  });
});

describe("tokenize", () => {
  it("turns an alert name and a sentence about it into the same terms", () => {
    expect(tokenize("KubePodCrashLooping")).toEqual(["kube", "pod", "crash", "loop"]);
    expect(tokenize("The pods are crash-looping")).toEqual(["pod", "crash", "loop"]);
  });

  it("drops stop words and markdown leftovers but keeps the words alert names are made of", () => {
    expect(tokenize("It is the node that is NOT ready, see https://www.example.com/runbook.md")).toEqual(["node", "not", "ready", "see", "exampl", "runbook"]);
    expect(tokenize("TargetDown CrashLoopBackOff NodeFilesystemAlmostOutOfSpace")).toEqual(["target", "down", "crash", "loop", "back", "off", "node", "filesystem", "almost", "out", "spac"]);
    expect(stopWords.has("not")).toBe(false);
    expect(stopWords.has("the")).toBe(true);
  });

  it("keeps only terms of two characters or more", () => {
    expect(tokenize("a b 5 x 42 ok")).toEqual(["42", "ok"]);
  });

  it("is deterministic and fast", () => {
    const text = "## Meaning\nKubePodCrashLooping fires when a pod's container restarts repeatedly. ".repeat(3000);
    const started = performance.now();
    const first = tokenize(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(tokenize(text)).toEqual(first);
    expect(first.length).toBeGreaterThan(20_000);
  });
});
