import type { Sql, Tx } from "../db/client.ts";
import type { AlertGroupSignal, AlertSignal, AlertStatus } from "../sources/types.ts";
import { sameRecord } from "../util/same-record.ts";

export interface DeliveryMeta {
  source: string;
  body: string;
  contentType?: string | undefined;
  userAgent?: string | undefined;
}

export interface StoredDelivery {
  deliveryId: number;
  /** False for a redelivery or an HA twin: nothing a person could see has changed. */
  changed: boolean;
  /** Groups whose cards must be brought up to the given version. */
  groups: { id: number; version: number }[];
  newAlerts: number;
  resolvedAlerts: number;
}

interface ExistingAlert {
  id: number;
  dedupe_key: string;
  group_id: number;
  status: AlertStatus;
  annotations: Record<string, string>;
  ends_at: Date | null;
}

/**
 * Stores one Alertmanager notification in one transaction: the raw delivery, the group, its alerts
 * (deduplicated on fingerprint + startsAt) and their status history. Concurrent deliveries for the
 * same group are serialized by the group row lock, so an HA pair sending the same notification at
 * once still yields one record per alert.
 */
export function createIngestStore(sql: Sql) {
  return {
    async storeAlertGroup(meta: DeliveryMeta, group: AlertGroupSignal): Promise<StoredDelivery> {
      return sql.begin(async (tx) => {
        const [delivery] = await tx<{ id: number }[]>`
          insert into deliveries (source, content_type, user_agent, body, signal_count)
          values (${meta.source}, ${meta.contentType ?? null}, ${meta.userAgent ?? null}, ${meta.body}, ${group.alerts.length})
          returning id`;
        const deliveryId = delivery!.id;

        const [g] = await tx<GroupRow[]>`
          insert into alert_groups (source, group_key, receiver, group_labels, common_labels, common_annotations, external_url, truncated_alerts)
          values (${group.source}, ${group.groupKey}, ${group.receiver}, ${tx.json(group.groupLabels)}, ${tx.json(group.commonLabels)},
                  ${tx.json(group.commonAnnotations)}, ${group.externalUrl}, ${group.truncatedAlerts})
          on conflict (source, group_key) do update set updated_at = now()
          returning id, episode, version, (xmax = 0) as inserted, receiver, group_labels, common_labels, common_annotations,
                    external_url, truncated_alerts`;
        const row = g!;

        // The last copy of an alert in one payload wins (odd senders repeat alerts).
        const incoming = new Map<string, AlertSignal>();
        for (const a of group.alerts) incoming.set(a.dedupeKey, a);
        const keys = [...incoming.keys()];

        // A group seen for the first time has no alerts and no episode yet: two round trips saved on
        // the most common delivery. (Its alerts may still exist under another group; the insert's
        // conflict handling below finds those.)
        const existing = new Map<string, ExistingAlert>();
        if (!row.inserted) for (const e of await selectForUpdate(tx, keys)) existing.set(e.dedupe_key, e);

        const [episodeState] = row.inserted
          ? [{ total: 0, firing: 0 }]
          : await tx<{ total: number; firing: number }[]>`
              select count(*)::int as total, count(*) filter (where status = 'firing')::int as firing
              from alerts where group_id = ${row.id} and episode = ${row.episode}`;
        const fresh = keys.filter((k) => !existing.has(k));
        // A new alert after every alert of the episode resolved starts a new card (a re-fire).
        const episodeClosed = episodeState!.total > 0 && episodeState!.firing === 0;
        const episode = fresh.length > 0 && episodeClosed ? row.episode + 1 : row.episode;
        const version = row.version + 1;

        let alertsChangedHere = false;
        let newAlerts = 0;
        let resolvedAlerts = 0;
        const events: { alert_id: number; status: AlertStatus; delivery_id: number }[] = [];
        // Alerts stored under another group (the same alert on a second route): that group's cards
        // must show the change too, so it gets one new version for this delivery.
        const otherGroups = new Map<number, number>();
        const updates: AlertUpdateRow[] = [];

        if (fresh.length > 0) {
          const rows = fresh.map((k) => {
            const a = incoming.get(k)!;
            return {
              group_id: row.id,
              episode,
              dedupe_key: a.dedupeKey,
              fingerprint: a.fingerprint,
              alertname: a.alertname,
              severity: a.severity,
              status: a.status,
              labels: a.labels,
              annotations: a.annotations,
              starts_at: a.startsAt,
              ends_at: a.endsAt,
              generator_url: a.generatorUrl,
              changed_version: version,
              last_delivery_id: deliveryId,
            };
          });
          const inserted = await tx<{ id: number; dedupe_key: string; status: AlertStatus }[]>`
            insert into alerts ${tx(rows as never)}
            on conflict (dedupe_key) do nothing
            returning id, dedupe_key, status`;
          newAlerts = inserted.length;
          for (const r of inserted) events.push({ alert_id: r.id, status: r.status, delivery_id: deliveryId });
          if (inserted.length < fresh.length) {
            // Inserted meanwhile through another group (same alert on two routes): update those instead.
            const got = new Set(inserted.map((r) => r.dedupe_key));
            for (const e of await selectForUpdate(
              tx,
              fresh.filter((k) => !got.has(k)),
            ))
              existing.set(e.dedupe_key, e);
          }
        }

        for (const [key, e] of existing) {
          const a = incoming.get(key)!;
          const update = alertUpdate(e, a);
          if (!update) continue;
          if (e.group_id === row.id) alertsChangedHere = true;
          if (update.status === "resolved" && e.status === "firing") resolvedAlerts++;
          let changedVersion = version;
          if (e.group_id !== row.id) {
            let other = otherGroups.get(e.group_id);
            if (other === undefined) {
              const [og] = await tx<{ version: number }[]>`
                update alert_groups set version = version + 1, updated_at = now() where id = ${e.group_id} returning version`;
              other = og!.version;
              otherGroups.set(e.group_id, other);
            }
            changedVersion = other;
          }
          updates.push({ id: e.id, status: update.status, ends_at: update.endsAt, annotations: update.annotations, changed_version: changedVersion });
          if (update.status !== e.status) events.push({ alert_id: e.id, status: update.status, delivery_id: deliveryId });
        }
        // One statement for all of them: a storm resolving thousands of alerts is one round trip,
        // not thousands inside the webhook's transaction. The rows are locked already (selectForUpdate).
        if (updates.length > 0) {
          await tx`
            update alerts set status = u.status, ends_at = u.ends_at, annotations = u.annotations,
                   changed_version = u.changed_version, last_delivery_id = ${deliveryId}, updated_at = now()
            from jsonb_to_recordset(${tx.json(updates as never)})
                 as u(id bigint, status text, ends_at timestamptz, annotations jsonb, changed_version integer)
            where alerts.id = u.id`;
        }

        const groupFieldsChanged =
          row.receiver !== group.receiver ||
          !sameRecord(row.group_labels, group.groupLabels) ||
          !sameRecord(row.common_labels, group.commonLabels) ||
          !sameRecord(row.common_annotations, group.commonAnnotations) ||
          row.external_url !== group.externalUrl ||
          row.truncated_alerts !== group.truncatedAlerts;
        const changedHere = row.inserted || newAlerts > 0 || groupFieldsChanged || alertsChangedHere;

        if (events.length > 0) await tx`insert into alert_events ${tx(events)}`;
        const groups: { id: number; version: number }[] = [];
        if (changedHere) {
          await tx`
            update alert_groups set version = ${version}, episode = ${episode}, receiver = ${group.receiver},
                   group_labels = ${tx.json(group.groupLabels)}, common_labels = ${tx.json(group.commonLabels)},
                   common_annotations = ${tx.json(group.commonAnnotations)}, external_url = ${group.externalUrl},
                   truncated_alerts = ${group.truncatedAlerts}, updated_at = now()
            where id = ${row.id}`;
          groups.push({ id: row.id, version });
        }
        for (const [id, otherVersion] of otherGroups) groups.push({ id, version: otherVersion });
        const changed = groups.length > 0;
        if (changed) await tx`update deliveries set changed = true where id = ${deliveryId}`;
        return { deliveryId, changed, groups, newAlerts, resolvedAlerts };
      });
    },
  };
}

export type IngestStore = ReturnType<typeof createIngestStore>;

interface GroupRow {
  id: number;
  episode: number;
  version: number;
  inserted: boolean;
  receiver: string;
  group_labels: Record<string, string>;
  common_labels: Record<string, string>;
  common_annotations: Record<string, string>;
  external_url: string | null;
  truncated_alerts: number;
}

/** One row of the batched alert update; the column names are the ones jsonb_to_recordset reads. */
interface AlertUpdateRow {
  id: number;
  status: AlertStatus;
  ends_at: Date | null;
  annotations: Record<string, string>;
  changed_version: number;
}

async function selectForUpdate(tx: Tx, keys: string[]): Promise<ExistingAlert[]> {
  if (keys.length === 0) return [];
  return tx<ExistingAlert[]>`
    select id, dedupe_key, group_id, status, annotations, ends_at from alerts
    where dedupe_key in ${tx(keys)} order by id for update`;
}

/**
 * What a stored alert becomes given a newer copy of it. Resolved is final for one identity
 * (fingerprint + startsAt): a late retry of an older "firing" notification must not revive it;
 * Alertmanager gives a real re-fire a new startsAt.
 */
function alertUpdate(
  e: ExistingAlert,
  a: AlertSignal,
): { status: AlertStatus; endsAt: Date | null; annotations: Record<string, string> } | null {
  if (e.status === "resolved") {
    if (e.ends_at === null && a.status === "resolved" && a.endsAt !== null) {
      return { status: "resolved", endsAt: a.endsAt, annotations: e.annotations };
    }
    return null;
  }
  if (a.status === "resolved") return { status: "resolved", endsAt: a.endsAt, annotations: a.annotations };
  if (!sameRecord(e.annotations, a.annotations)) return { status: "firing", endsAt: null, annotations: a.annotations };
  return null;
}
