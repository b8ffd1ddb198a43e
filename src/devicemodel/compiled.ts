/**
 * The typed plan that `compile()` makes from Baetyl's three files (per driver instance) and that
 * everything downstream (gateway runtime, simulators) uses. Nothing downstream re-parses strings.
 */
import type { ModelType, PointType } from './types.ts';
import type { Expr } from './expression.ts';

/** One property of a device model (models.yml), with fieldgate's optional range. */
export interface ModelProperty {
  readonly name: string;
  readonly id?: string;
  readonly type: ModelType;
  /** `ro` or `rw` (Baetyl's `mode`); only `rw` properties accept desired values. */
  readonly mode: 'ro' | 'rw';
  readonly unit?: string;
  /** fieldgate: inclusive range checked for desired values. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values when `type: enum` (the `value`s of Baetyl's `enumType.values`). */
  readonly enumValues?: readonly (string | number)[];
  /** Element type when `type: array`. */
  readonly arrayItemType?: ModelType;
}

/** A mapping from points to a model attribute (access_template.yml `mappings`). */
export interface Mapping {
  readonly attribute: string;
  /** `value` passes one point through; `calculate` evaluates `expr`. `none` mappings are dropped at compile. */
  readonly kind: 'value' | 'calculate';
  readonly expr: Expr;
  /** Point ids (the `<id>` of `x<id>`) the expression reads, in order of first use. */
  readonly pointIds: readonly string[];
  /** Decimal places to round to; undefined = no rounding (Baetyl: precision <= 0). */
  readonly precision?: number;
  /** Report when the value moved by at least this percent of the last reported value (0 = any change). */
  readonly deviation: number;
  /** fieldgate: report when the value moved by at least this absolute amount (0 = off). */
  readonly deadband: number;
  /** Longest time (ms) the attribute may go unreported; 0 = no limit. */
  readonly silentWin: number;
}

/** A topic and its QoS (Baetyl `deviceTopic.<key>`). */
export interface QosTopic {
  readonly topic: string;
  readonly qos: 0 | 1;
}

/** All topics of one sub-device; missing ones default to Baetyl's `dm/store.go` templates. */
export interface DeviceTopics {
  readonly report: QosTopic;
  readonly delta: QosTopic;
  readonly event: QosTopic;
  readonly get: QosTopic;
  readonly getResponse: QosTopic;
  readonly eventReport: QosTopic;
  readonly propertyGet: QosTopic;
  readonly lifecycleReport: QosTopic;
}

/** One point of a device with its address parsed by the driver's schema. */
export interface CompiledPoint {
  readonly id: string;
  readonly name: string;
  readonly type: PointType;
  readonly address: unknown;
}

/** One sub-device, ready to run. */
export interface CompiledDevice {
  readonly name: string;
  readonly version?: string;
  /** Driver instance (gateway.yaml `drivers[].name`) and driver id. */
  readonly instance: string;
  readonly driver: string;
  /** `deviceModel` (the product; `{product}` in topics) and `accessTemplate`. */
  readonly product: string;
  readonly accessTemplate: string;
  /** The model's properties by name. */
  readonly model: ReadonlyMap<string, ModelProperty>;
  readonly points: readonly CompiledPoint[];
  readonly mappings: readonly Mapping[];
  readonly topics: DeviceTopics;
  /** `accessConfig.<driver>` parsed by the driver's connection schema (interval/timeout in ms). */
  readonly connection: { readonly interval: number; readonly timeout: number } & Record<string, unknown>;
}

/** One driver instance: a folder with Baetyl's three files. */
export interface CompiledInstance {
  readonly name: string;
  readonly driver: string;
  readonly dir: string;
  readonly devices: readonly CompiledDevice[];
  /** `driver:` of sub_devices.yml: opaque driver-level config string. */
  readonly driverConfig: string;
}
