import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for the Qdrant REST API, for machines without a Qdrant: exactly the requests the
 * topicops adapter makes, validated as strictly as Qdrant validates them (unknown fields, wrong
 * vector names, point ids that are neither unsigned integers nor UUIDs, answered in Qdrant's error
 * format), with Qdrant's search semantics computed by brute force: Cosine on normalised f32 vectors,
 * sparse dot product with the `idf` modifier (`ln((N − n + 0.5) / (n + 0.5) + 1)` over the whole
 * collection), and RRF fusion (Σ 1/(k + rank), rank 0-based, k = 2) in f32.
 *
 * Deliberately independent of src/runbooks/search's helpers, so a mistake there is not mirrored
 * here. What the adapter never sends (batch upserts, nested prefetch, `should` filters, ...) is
 * refused with a 400 that says the stand-in does not implement it, so a change in the adapter shows
 * up as a failing test rather than a silently different answer.
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface QdrantStandIn {
  url: string;
  requests: RecordedRequest[];
  /** Names of the collections that exist. */
  collections(): string[];
  close(): Promise<void>;
}

export interface QdrantStandInOptions {
  /** When set, every request must carry it in the `api-key` header, as Qdrant with `service.api_key`. */
  apiKey?: string;
}

type PointId = string | number;

interface StoredPoint {
  id: PointId;
  vectors: Map<string, Float32Array | { indices: number[]; values: number[] }>;
  payload: Record<string, unknown>;
}

interface Collection {
  dense: Map<string, number>; // name → size (Cosine only)
  sparse: Map<string, "idf" | "none">;
  payloadSchema: Map<string, string>;
  points: Map<string, StoredPoint>; // key: canonical id string
  operationId: number;
}

class QdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const formatError = (detail: string) => new QdrantError(400, `Format error in JSON body: ${detail} at line 1 column 1`);
const wrongInput = (detail: string) => new QdrantError(400, `Wrong input: ${detail}`);
const validationError = (detail: string) => new QdrantError(422, `Validation error in JSON body: [${detail}]`);
const notImplemented = (what: string) => new QdrantError(400, `Wrong input: the Qdrant stand-in does not implement ${what}`);

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Rejects fields Qdrant does not know, as serde's `deny_unknown_fields` does, and ones it requires but lack. */
function fields(value: unknown, where: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
  if (!isObject(value)) throw formatError(`invalid type: expected struct ${where}`);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw formatError(`unknown field \`${key}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}`);
  }
  for (const key of required) if (value[key] === undefined) throw formatError(`missing field \`${key}\``);
  return value;
}

function pointId(value: unknown): PointId {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && uuidPattern.test(value)) return value.toLowerCase();
  throw formatError(`value ${JSON.stringify(value)} is not a valid point ID, valid values are either an unsigned integer or a UUID`);
}

const keyOf = (id: PointId) => (typeof id === "number" ? `n:${String(id).padStart(20, "0")}` : `u:${id}`);

function normalized(vector: number[]): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm);
  return Float32Array.from(vector, (x) => (norm === 0 ? 0 : x / norm));
}

function sparseVector(value: unknown, where: string): { indices: number[]; values: number[] } {
  const v = fields(value, where, ["indices", "values"], ["indices", "values"]);
  if (!Array.isArray(v.indices) || !v.indices.every((i) => Number.isInteger(i) && i >= 0 && i <= 0xffffffff)) {
    throw formatError(`invalid value for ${where}.indices: expected u32`);
  }
  if (!Array.isArray(v.values) || !v.values.every((x) => typeof x === "number")) throw formatError(`invalid value for ${where}.values: expected f32`);
  const indices = v.indices as number[];
  const values = v.values as number[];
  if (indices.length !== values.length) throw validationError(`${where}.values: must be the same length as indices`);
  if (new Set(indices).size !== indices.length) throw validationError(`${where}.indices: must be unique`);
  const order = indices.map((_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
  return { indices: order.map((i) => indices[i]!), values: order.map((i) => values[i]!) };
}

type Condition = { key: string; match: { value: unknown } | { any: unknown[] } };

function parseFilter(value: unknown): Condition[] | undefined {
  if (value === undefined || value === null) return undefined;
  const f = fields(value, "Filter", ["must", "should", "must_not", "min_should"]);
  if (f.should !== undefined || f.must_not !== undefined || f.min_should !== undefined) notImplementedThrow("filters other than `must`");
  const must = f.must === undefined ? [] : Array.isArray(f.must) ? f.must : [f.must];
  return must.map((c, i) => {
    const cond = fields(c, `must[${i}]`, ["key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count", "is_empty", "is_null", "has_id", "has_vector", "nested", "filter"]);
    if (typeof cond.key !== "string" || cond.match === undefined || Object.keys(cond).length !== 2) notImplementedThrow("conditions other than `key` + `match`");
    const match = cond.match;
    if (isObject(match) && Object.keys(match).length === 1 && "value" in match) {
      if (!["string", "number", "boolean"].includes(typeof match.value)) throw formatError("data did not match any variant of untagged enum ValueVariants");
      return { key: cond.key as string, match: { value: match.value } };
    }
    if (isObject(match) && Object.keys(match).length === 1 && Array.isArray(match.any)) {
      const kinds = new Set(match.any.map((v) => typeof v));
      if (kinds.size > 1 || kinds.has("boolean") || kinds.has("object")) throw formatError("data did not match any variant of untagged enum AnyVariants");
      return { key: cond.key as string, match: { any: match.any } };
    }
    return notImplementedThrow("match kinds other than `value` and `any`");
  });
}

function notImplementedThrow(what: string): never {
  throw notImplemented(what);
}

function payloadValue(payload: Record<string, unknown>, key: string): unknown {
  let value: unknown = payload;
  for (const part of key.split(".")) {
    if (!isObject(value)) return undefined;
    value = value[part];
  }
  return value;
}

function passes(point: StoredPoint, filter: Condition[] | undefined): boolean {
  if (!filter) return true;
  return filter.every((cond) => {
    const stored = payloadValue(point.payload, cond.key);
    const values = Array.isArray(stored) ? stored : [stored];
    return "value" in cond.match ? values.some((v) => v === (cond.match as { value: unknown }).value) : values.some((v) => (cond.match as { any: unknown[] }).any.includes(v));
  });
}

function selectPayload(point: StoredPoint, withPayload: unknown): Record<string, unknown> | undefined {
  if (withPayload === undefined || withPayload === false) return undefined;
  if (withPayload === true) return structuredClone(point.payload);
  if (Array.isArray(withPayload) && withPayload.every((k) => typeof k === "string")) {
    return Object.fromEntries(withPayload.filter((k) => k in point.payload).map((k) => [k, structuredClone(point.payload[k])]));
  }
  return notImplementedThrow("payload selectors other than true, false and a list of keys");
}

function selectVectors(collection: Collection, point: StoredPoint, withVector: unknown): Record<string, unknown> | undefined {
  if (withVector === undefined || withVector === false) return undefined;
  const names = withVector === true ? [...point.vectors.keys()] : withVector;
  if (!Array.isArray(names) || !names.every((n) => typeof n === "string")) throw formatError("data did not match any variant of untagged enum WithVector");
  const out: Record<string, unknown> = {};
  for (const name of names as string[]) {
    if (!collection.dense.has(name) && !collection.sparse.has(name)) throw wrongInput(`Not existing vector name error: ${name}`);
    const v = point.vectors.get(name);
    if (v instanceof Float32Array) out[name] = Array.from(v);
    else if (v) out[name] = { indices: [...v.indices], values: [...v.values] };
  }
  return out;
}

function idfOf(n: number, df: number): number {
  const f = Math.fround;
  return f(Math.log(f(f(f(n - df + 0.5) / f(df + 0.5)) + 1)));
}

export async function startQdrantStandIn(options: QdrantStandInOptions = {}): Promise<QdrantStandIn> {
  const collections = new Map<string, Collection>();
  const requests: RecordedRequest[] = [];

  function collectionNamed(name: string): Collection {
    const c = collections.get(name);
    if (!c) throw new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    return c;
  }

  function allowQuery(query: Record<string, string>, allowed: readonly string[]): void {
    for (const key of Object.keys(query)) {
      if (!allowed.includes(key)) throw new QdrantError(400, `Query deserialize error: unknown field \`${key}\`, expected one of ${allowed.map((a) => `\`${a}\``).join(", ")}`);
    }
  }

  function sortedPoints(c: Collection): StoredPoint[] {
    return [...c.points.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
  }

  function collectionInfo(c: Collection): unknown {
    return {
      status: "green",
      optimizer_status: "ok",
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: Object.fromEntries([...c.dense].map(([name, size]) => [name, { size, distance: "Cosine" }])),
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
          sparse_vectors: Object.fromEntries([...c.sparse].map(([name, modifier]) => [name, modifier === "idf" ? { modifier: "idf" } : {}])),
        },
        hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, flush_interval_sec: 5 },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: null,
      },
      payload_schema: Object.fromEntries([...c.payloadSchema].map(([field, type]) => [field, { data_type: type, points: c.points.size }])),
    };
  }

  function createCollection(name: string, body: unknown): boolean {
    const b = fields(body, "CreateCollection", ["vectors", "sparse_vectors"]);
    if (collections.has(name)) throw new QdrantError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const dense = new Map<string, number>();
    if (b.vectors !== undefined) {
      if (!isObject(b.vectors) || "size" in b.vectors) notImplementedThrow("an unnamed dense vector");
      for (const [vname, params] of Object.entries(b.vectors)) {
        const p = fields(params, `vectors.${vname}`, ["size", "distance", "hnsw_config", "quantization_config", "on_disk", "datatype", "multivector_config"], ["size", "distance"]);
        if (!Number.isInteger(p.size) || (p.size as number) < 1) throw validationError(`vectors.${vname}.size: value ${String(p.size)} invalid, must be 1 or larger`);
        if (!["Cosine", "Euclid", "Dot", "Manhattan"].includes(p.distance as string)) throw formatError(`unknown variant \`${String(p.distance)}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``);
        if (p.distance !== "Cosine" || Object.keys(p).length !== 2) notImplementedThrow("dense vectors other than plain Cosine");
        dense.set(vname, p.size as number);
      }
    }
    const sparse = new Map<string, "idf" | "none">();
    if (b.sparse_vectors !== undefined) {
      if (!isObject(b.sparse_vectors)) throw formatError("invalid type: expected a map for sparse_vectors");
      for (const [vname, params] of Object.entries(b.sparse_vectors)) {
        const p = fields(params, `sparse_vectors.${vname}`, ["index", "modifier"]);
        if (p.index !== undefined) notImplementedThrow("sparse index parameters");
        if (p.modifier !== undefined && p.modifier !== "idf" && p.modifier !== "none") throw formatError(`unknown variant \`${String(p.modifier)}\`, expected \`none\` or \`idf\``);
        sparse.set(vname, p.modifier === "idf" ? "idf" : "none");
      }
    }
    for (const vname of sparse.keys()) if (dense.has(vname)) throw wrongInput(`vector name ${vname} used for both a dense and a sparse vector`);
    collections.set(name, { dense, sparse, payloadSchema: new Map(), points: new Map(), operationId: 0 });
    return true;
  }

  function upsert(c: Collection, body: unknown): unknown {
    const b = fields(body, "PointInsertOperations", ["points", "batch", "shard_key", "update_filter", "update_mode"]);
    if (b.batch !== undefined || b.shard_key !== undefined || b.update_filter !== undefined || b.update_mode !== undefined) notImplementedThrow("upserts other than a points list");
    if (!Array.isArray(b.points)) throw formatError("missing field `points`");
    const parsed = b.points.map((raw, i) => {
      const p = fields(raw, `points[${i}]`, ["id", "vector", "payload"], ["id", "vector"]);
      const id = pointId(p.id);
      if (!isObject(p.vector)) notImplementedThrow("unnamed vectors");
      const vectors = new Map<string, Float32Array | { indices: number[]; values: number[] }>();
      for (const [vname, v] of Object.entries(p.vector)) {
        if (c.dense.has(vname)) {
          if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) throw formatError(`data did not match any variant of untagged enum VectorStruct`);
          const size = c.dense.get(vname)!;
          if (v.length !== size) throw wrongInput(`Vector dimension error: expected dim: ${size}, got ${v.length}`);
          vectors.set(vname, normalized(v as number[]));
        } else if (c.sparse.has(vname)) {
          vectors.set(vname, sparseVector(v, `points[${i}].vector.${vname}`));
        } else {
          throw wrongInput(`Not existing vector name error: ${vname}`);
        }
      }
      if (p.payload !== undefined && p.payload !== null && !isObject(p.payload)) throw formatError("invalid type: expected a map for payload");
      return { id, vectors, payload: structuredClone((p.payload ?? {}) as Record<string, unknown>) };
    });
    for (const point of parsed) c.points.set(keyOf(point.id), point);
    return { operation_id: ++c.operationId, status: "completed" };
  }

  function remove(c: Collection, body: unknown): unknown {
    const b = fields(body, "PointsSelector", ["points", "filter", "shard_key"]);
    if (b.filter !== undefined || b.shard_key !== undefined || !Array.isArray(b.points)) notImplementedThrow("deleting points other than by id list");
    for (const id of b.points.map(pointId)) c.points.delete(keyOf(id));
    return { operation_id: ++c.operationId, status: "completed" };
  }

  function retrieve(c: Collection, body: unknown): unknown {
    const b = fields(body, "PointRequest", ["ids", "with_payload", "with_vector", "shard_key"], ["ids"]);
    if (b.shard_key !== undefined) notImplementedThrow("shard keys");
    if (!Array.isArray(b.ids)) throw formatError("invalid type: expected a sequence for ids");
    const out: unknown[] = [];
    for (const id of b.ids.map(pointId)) {
      const point = c.points.get(keyOf(id));
      if (!point) continue;
      out.push({ id: point.id, payload: selectPayload(point, b.with_payload ?? true) ?? null, vector: selectVectors(c, point, b.with_vector) ?? null });
    }
    return out;
  }

  function scroll(c: Collection, body: unknown): unknown {
    const b = fields(body ?? {}, "ScrollRequest", ["offset", "limit", "filter", "with_payload", "with_vector", "shard_key", "order_by"]);
    if (b.shard_key !== undefined || b.order_by !== undefined) notImplementedThrow("shard keys and order_by");
    const limit = b.limit ?? 10;
    if (!Number.isInteger(limit) || (limit as number) < 1) throw validationError(`limit: value ${String(limit)} invalid, must be 1 or larger`);
    const filter = parseFilter(b.filter);
    const offset = b.offset === undefined || b.offset === null ? undefined : keyOf(pointId(b.offset));
    const matching = sortedPoints(c).filter((p) => (offset === undefined || keyOf(p.id) >= offset) && passes(p, filter));
    const page = matching.slice(0, limit as number);
    const next = matching[limit as number];
    return {
      points: page.map((p) => ({ id: p.id, payload: selectPayload(p, b.with_payload ?? true) ?? null, vector: selectVectors(c, p, b.with_vector) ?? null })),
      next_page_offset: next ? next.id : null,
    };
  }

  function count(c: Collection, body: unknown): unknown {
    const b = fields(body ?? {}, "CountRequest", ["filter", "exact", "shard_key"]);
    if (b.shard_key !== undefined) notImplementedThrow("shard keys");
    const filter = parseFilter(b.filter);
    return { count: [...c.points.values()].filter((p) => passes(p, filter)).length };
  }

  function and(a: Condition[] | undefined, b: Condition[] | undefined): Condition[] | undefined {
    return a || b ? [...(a ?? []), ...(b ?? [])] : undefined;
  }

  function runPrefetch(c: Collection, raw: unknown, i: number, outerFilter: Condition[] | undefined): StoredPoint[] {
    const p = fields(raw, `prefetch[${i}]`, ["prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from"], ["query"]);
    if (p.prefetch !== undefined || p.params !== undefined || p.score_threshold !== undefined || p.lookup_from !== undefined) notImplementedThrow("nested prefetch, params, score_threshold and lookup_from");
    if (typeof p.using !== "string") notImplementedThrow("a prefetch without `using`");
    const limit = p.limit ?? 10;
    if (!Number.isInteger(limit) || (limit as number) < 1) throw validationError(`prefetch.limit: value ${String(limit)} invalid, must be 1 or larger`);
    const filter = and(outerFilter, parseFilter(p.filter));
    const candidates = sortedPoints(c).filter((point) => passes(point, filter));
    let scored: { point: StoredPoint; score: number }[];
    if (c.dense.has(p.using)) {
      if (!Array.isArray(p.query) || !p.query.every((x) => typeof x === "number")) throw wrongInput(`Query vector for \`${p.using}\` must be a dense vector`);
      if (p.query.length !== c.dense.get(p.using)) throw wrongInput(`Vector dimension error: expected dim: ${c.dense.get(p.using)}, got ${p.query.length}`);
      const q = normalized(p.query as number[]);
      scored = candidates.flatMap((point) => {
        const v = point.vectors.get(p.using as string);
        if (!(v instanceof Float32Array)) return [];
        let s = 0;
        for (let d = 0; d < v.length; d++) s = Math.fround(s + Math.fround(v[d]! * q[d]!));
        return [{ point, score: s }];
      });
    } else if (c.sparse.has(p.using)) {
      if (!isObject(p.query) || !("indices" in p.query)) throw wrongInput(`Query vector for \`${p.using}\` must be a sparse vector`);
      const q = sparseVector(p.query, `prefetch[${i}].query`);
      const useIdf = c.sparse.get(p.using) === "idf";
      const all = [...c.points.values()];
      const weights = q.indices.map((term, t) => {
        if (!useIdf) return q.values[t]!;
        const df = all.filter((point) => {
          const v = point.vectors.get(p.using as string);
          return v !== undefined && !(v instanceof Float32Array) && v.indices.includes(term);
        }).length;
        return Math.fround(q.values[t]! * idfOf(all.length, df));
      });
      scored = candidates.flatMap((point) => {
        const v = point.vectors.get(p.using as string);
        if (v === undefined || v instanceof Float32Array) return [];
        let s = 0;
        let overlap = false;
        q.indices.forEach((term, t) => {
          const at = v.indices.indexOf(term);
          if (at < 0) return;
          overlap = true;
          s = Math.fround(s + Math.fround(weights[t]! * v.values[at]!));
        });
        return overlap ? [{ point, score: s }] : [];
      });
    } else {
      throw wrongInput(`Not existing vector name error: ${p.using}`);
    }
    // Ties go by point id: Qdrant leaves them unordered, so any fixed order is faithful.
    return scored
      .sort((a, b) => b.score - a.score || (keyOf(a.point.id) < keyOf(b.point.id) ? -1 : 1))
      .slice(0, limit as number)
      .map((s) => s.point);
  }

  function query(c: Collection, body: unknown): unknown {
    const b = fields(body, "QueryRequest", ["shard_key", "prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "offset", "with_vector", "with_payload", "lookup_from"]);
    for (const key of ["shard_key", "using", "params", "score_threshold", "offset", "lookup_from"]) if (b[key] !== undefined) notImplementedThrow(`\`${key}\` in queries`);
    if (!isObject(b.query) || b.query.fusion !== "rrf" || Object.keys(b.query).length !== 1) notImplementedThrow("queries other than `{ fusion: \"rrf\" }`");
    const prefetches = Array.isArray(b.prefetch) ? b.prefetch : b.prefetch === undefined ? [] : [b.prefetch];
    if (prefetches.length === 0) throw wrongInput("Fusion queries need at least one prefetch");
    const limit = b.limit ?? 10;
    if (!Number.isInteger(limit) || (limit as number) < 1) throw validationError(`limit: value ${String(limit)} invalid, must be 1 or larger`);
    const filter = parseFilter(b.filter);
    const lists = prefetches.map((p, i) => runPrefetch(c, p, i, filter));
    const fused = new Map<string, { point: StoredPoint; score: number }>();
    for (const list of lists) {
      list.forEach((point, rank) => {
        const contribution = Math.fround(1 / Math.fround(rank + 2));
        const entry = fused.get(keyOf(point.id));
        if (entry) entry.score = Math.fround(entry.score + contribution);
        else fused.set(keyOf(point.id), { point, score: contribution });
      });
    }
    const ranked = [...fused.entries()].sort(([ka, a], [kb, b2]) => b2.score - a.score || (ka < kb ? -1 : 1)).slice(0, limit as number);
    return {
      points: ranked.map(([, { point, score }]) => ({
        id: point.id,
        version: c.operationId,
        score,
        payload: selectPayload(point, b.with_payload) ?? null,
        vector: selectVectors(c, point, b.with_vector) ?? null,
      })),
    };
  }

  function route(method: string, path: string, params: Record<string, string>, body: unknown): unknown {
    if (method === "GET" && path === "/") return { title: "qdrant - vector search engine (stand-in)", version: "1.18.0" };
    const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(path);
    if (!m) throw new QdrantError(404, `stand-in: no route for ${method} ${path}`);
    const name = decodeURIComponent(m[1]!);
    const rest = m[2] ?? "";
    const wrap = (result: unknown) => ({ result, status: "ok", time: 0.0001 });
    switch (`${method} ${rest}`) {
      case "GET ":
        allowQuery(params, []);
        return wrap(collectionInfo(collectionNamed(name)));
      case "GET /exists":
        return wrap({ exists: collections.has(name) });
      case "PUT ":
        allowQuery(params, ["timeout"]);
        return wrap(createCollection(name, body));
      case "DELETE ":
        allowQuery(params, ["timeout"]);
        return wrap(collections.delete(name));
      case "PUT /index": {
        allowQuery(params, ["wait", "ordering", "timeout"]);
        const c = collectionNamed(name);
        const b = fields(body, "CreateFieldIndex", ["field_name", "field_schema"], ["field_name"]);
        if (b.field_schema !== "keyword") notImplementedThrow("payload indexes other than `keyword`");
        c.payloadSchema.set(b.field_name as string, "keyword");
        return wrap({ operation_id: ++c.operationId, status: "completed" });
      }
      case "PUT /points":
        allowQuery(params, ["wait", "ordering", "timeout"]);
        return wrap(upsert(collectionNamed(name), body));
      case "POST /points":
        allowQuery(params, ["consistency", "timeout"]);
        return wrap(retrieve(collectionNamed(name), body));
      case "POST /points/delete":
        allowQuery(params, ["wait", "ordering", "timeout"]);
        return wrap(remove(collectionNamed(name), body));
      case "POST /points/scroll":
        allowQuery(params, ["consistency", "timeout"]);
        return wrap(scroll(collectionNamed(name), body));
      case "POST /points/count":
        allowQuery(params, ["consistency", "timeout"]);
        return wrap(count(collectionNamed(name), body));
      case "POST /points/query":
        allowQuery(params, ["consistency", "timeout"]);
        return wrap(query(collectionNamed(name), body));
      default:
        throw new QdrantError(404, `stand-in: no route for ${method} ${path}`);
    }
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  function send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const query = Object.fromEntries(url.searchParams);
      const text = await readBody(req);
      let body: unknown;
      try {
        if (options.apiKey !== undefined && req.headers["api-key"] !== options.apiKey) {
          throw new QdrantError(401, "Must provide an API key or an Authorization bearer token");
        }
        if (text.length > 0) {
          try {
            body = JSON.parse(text);
          } catch {
            throw formatError("expected value");
          }
        }
        requests.push({ method: req.method ?? "GET", path: url.pathname, query, body });
        send(res, 200, route(req.method ?? "GET", url.pathname, query, body));
      } catch (error) {
        if (error instanceof QdrantError) send(res, error.status, { status: { error: error.message }, time: 0.0001 });
        else send(res, 500, { status: { error: `Service internal error: ${String(error)}` }, time: 0 });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    collections: () => [...collections.keys()],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
