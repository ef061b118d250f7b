import { describe, expect, it } from "vitest";
import { labelsFingerprint } from "../../src/sources/index.ts";
import { fixtureJson } from "../helpers/shared.ts";

interface RawAlert {
  labels: Record<string, string>;
  fingerprint?: string;
}

const alertsOf = (file: string): RawAlert[] => fixtureJson<{ alerts: RawAlert[] }>(`alertmanager/${file}`).alerts;

/** FNV-1a 64 over an explicit byte list, to pin byte order and UTF-8 independently of the implementation's sorting. */
function fnv1a64(bytes: number[]): string {
  let hash = 14695981039346656037n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 1099511628211n) % 2n ** 64n;
  return hash.toString(16).padStart(16, "0");
}

describe("labelsFingerprint", () => {
  // Known answers from prometheus/common's model tests (TestMetricToFingerprint), as decimal uint64.
  it("matches Prometheus' known answers", () => {
    expect(labelsFingerprint({})).toBe(BigInt("14695981039346656037").toString(16));
    expect(labelsFingerprint({ name: "garland, briggs", fear: "love is not enough" })).toBe(
      BigInt("5799056148416392346").toString(16).padStart(16, "0"),
    );
    expect(labelsFingerprint({ name: "garland, briggs", fear: "love is not enough" })).toBe("507a62d79ee76c9a");
  });

  it("matches every fingerprint a real Alertmanager sent in the verbatim fixtures", () => {
    for (const alert of alertsOf("verbatim-grafana-oncall-instancedown-3-alerts.json")) {
      expect(labelsFingerprint(alert.labels)).toBe(alert.fingerprint);
    }
    const [resolved] = alertsOf("verbatim-zulip-resolved-single-alert.json");
    expect(labelsFingerprint(resolved!.labels)).toBe("a1bc48475b20e73d");
    expect(resolved!.fingerprint).toBe("a1bc48475b20e73d");
  });

  it("shows the zulip firing fixture was hand-edited: two alerts, same labels, different sent fingerprints", () => {
    const [first, second] = alertsOf("verbatim-zulip-firing-2-alerts.json");
    expect(first!.labels).toEqual(second!.labels);
    expect(labelsFingerprint(first!.labels)).toBe(first!.fingerprint);
    expect(first!.fingerprint).toBe("a1bc48475b20e73d");
    expect(second!.fingerprint).toBe("c2ea85182f28cbd9");
    expect(labelsFingerprint(second!.labels)).toBe("a1bc48475b20e73d");
  });

  it.each([
    "assembled-firing-critical-node-filesystem.json",
    "assembled-firing-kube-pod-crashlooping.json",
    "assembled-firing-namespace-group-mixed-alerts.json",
    "assembled-firing-partially-resolved-deployment-replicas.json",
    "assembled-firing-pv-filling-up-am034-format.json",
    "assembled-firing-target-down-truncated.json",
    "assembled-resolved-kube-pod-crashlooping.json",
    "assembled-resolved-node-memory-high-utilization.json",
  ])("matches the fingerprints in %s", (file) => {
    const alerts = alertsOf(file);
    expect(alerts.length).toBeGreaterThan(0);
    for (const alert of alerts) expect(labelsFingerprint(alert.labels)).toBe(alert.fingerprint);
  });

  it("does not depend on the order of the labels", () => {
    const a = labelsFingerprint({ alertname: "X", job: "node", instance: "a:9100" });
    const b = labelsFingerprint({ instance: "a:9100", job: "node", alertname: "X" });
    expect(a).toBe(b);
  });

  it("separates names from values, so concatenations do not collide", () => {
    expect(labelsFingerprint({ a: "bc" })).not.toBe(labelsFingerprint({ ab: "c" }));
    expect(labelsFingerprint({ a: "", b: "c" })).not.toBe(labelsFingerprint({ a: "b", c: "" }));
  });

  it("keeps leading zeros (16 lowercase hex digits)", () => {
    const labels = {
      alertname: "LoadAverage_1MIN",
      instance: "localhost:9102",
      job: "statsd",
      mode: "1min",
      scada_uuid: "483b197c-7fe8-11e6-b772-acb57db47f23",
      severity: "Critical",
    };
    expect(labelsFingerprint(labels)).toBe("004e77e67c92f143");
    expect(labelsFingerprint(labels)).toMatch(/^[0-9a-f]{16}$/);
  });

  it("hashes UTF-8 bytes and sorts names by bytes, as Go does", () => {
    // U+FFFF sorts before U+1F600 by UTF-8 bytes (EF.. < F0..) but after it by UTF-16 code units.
    const expected = fnv1a64([
      0xef, 0xbf, 0xbf, 0xff, 0xc3, 0xa9, 0xff, // "\uFFFF" = "é"
      0xf0, 0x9f, 0x98, 0x80, 0xff, 0x78, 0xff, // "😀" = "x"
    ]);
    expect(labelsFingerprint({ "\u{1F600}": "x", "\uFFFF": "é" })).toBe(expected);
  });
});
