/** Normalized signals: what every sender's parser produces. Pure data, no I/O. */

export type AlertStatus = "firing" | "resolved";

export type Labels = Record<string, string>;

export interface AlertSignal {
  /** 16 lowercase hex chars, as Alertmanager computes it (FNV-1a 64 over the sorted label set). */
  fingerprint: string;
  /** True when the sender did not send a fingerprint (Alertmanager < 0.19) and we computed it. */
  fingerprintComputed: boolean;
  /** The alert's identity: source + fingerprint + startsAt. The same alert stored twice is one record. */
  dedupeKey: string;
  status: AlertStatus;
  startsAt: Date;
  /** null while firing (Alertmanager's zero time) or when a resolved alert carries no end time. */
  endsAt: Date | null;
  alertname: string;
  /** Lowercased `severity` label, or null when there is none. */
  severity: string | null;
  labels: Labels;
  annotations: Labels;
  generatorUrl: string | null;
}

export interface AlertGroupSignal {
  source: "alertmanager";
  /** Identity of the aggregation group: Alertmanager's groupKey, or derived when a sender lacks one. */
  groupKey: string;
  receiver: string;
  /** Group status as sent: "firing" if ANY included alert fires. Per-alert status is what counts. */
  status: AlertStatus;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalUrl: string | null;
  /** Alerts Alertmanager left out because of max_alerts; they are not in `alerts`. */
  truncatedAlerts: number;
  notificationReason: string | null;
  /** Webhook format version as sent ("4"; "3" or 0 from very old senders). */
  version: string;
  alerts: AlertSignal[];
  /** Tolerated oddities worth knowing about (missing fields we filled in, …). */
  warnings: string[];
}
