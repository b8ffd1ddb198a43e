/** Shapes of the REST API answers the console reads (see docs/api.md). */

export interface PropertyValue {
  value: unknown;
  quality: 'good' | 'bad' | 'uncertain';
  ts: number;
  error?: { code: string; message: string };
}

export interface Counters {
  polls: number;
  failedPolls: number;
  overruns: number;
  pointsRead: number;
  badPoints: number;
  published: number;
  writes: number;
}

export interface DeviceSummary {
  name: string;
  product: string;
  accessTemplate: string;
  driver: string;
  instance: string;
  online: boolean | null;
  link: { key: string; state: string; error?: string };
  interval: number;
  lastPollAt: number | null;
  lastError: { code: string; message: string } | null;
  counters: Counters;
}

export interface ModelProperty {
  name: string;
  type: string;
  mode: 'ro' | 'rw';
  unit?: string;
  min?: number;
  max?: number;
}

export interface DeviceDetail extends DeviceSummary {
  properties: Record<string, PropertyValue>;
  model: ModelProperty[];
}

export interface Shadow {
  name: string;
  report: Record<string, unknown>;
  desire: Record<string, unknown>;
  delta: Record<string, unknown>;
  reportVersion: number;
  desireVersion: number;
}

export interface LifecycleEntry {
  at: number;
  online: boolean;
  error?: { code: string; message: string };
}

export interface History {
  name: string;
  windowMs: number;
  intervalMs: number;
  series: Record<string, [number, number][]>;
  lifecycle: LifecycleEntry[];
}

export interface DriverInfo {
  id: string;
  version: string;
  title: string;
  sdkVersion: string;
  capabilities: Record<string, boolean | number>;
  instances: string[];
  devices: number;
}

export interface LinkInfo {
  key: string;
  state: string;
  error?: string;
  stats: { connects: number; failures: number; reconnects: number; calls: number };
}

export interface ValidateResult {
  ok: boolean;
  issues: { file: string; path: string; line?: number; column?: number; message: string }[];
  devices?: number;
}

export interface Health {
  status: string;
  broker: string;
  devices: number;
  online: number;
}

/** An error answer of the API. */
export interface ApiErrorBody {
  error: { code: string; message: string; field?: string; errors?: { property: string; code: string; message: string }[] };
}

/** Events of /api/v1/events. */
export type LiveEvent =
  | { type: 'values'; device: string; properties: Record<string, PropertyValue> }
  | { type: 'lifecycle'; device: string; entry: LifecycleEntry }
  | { type: 'status'; devices: string[] };
