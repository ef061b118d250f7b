export { parseAlertmanager, maxAlertsPerWebhook } from "./alertmanager.ts";
export { labelsFingerprint } from "./fingerprint.ts";
export type { AlertGroupSignal, AlertSignal, AlertStatus, Labels } from "./types.ts";
