/**
 * compile(): Baetyl's three files of one driver instance → the typed plan ({@link CompiledInstance}).
 * Pure: the caller reads and parses the files (see `schema/yaml.ts parseYaml`) and supplies the
 * driver's schemas. Every problem found is returned (not only the first), each naming the file,
 * the YAML path, the line:column and what is allowed.
 *
 * Order of checks: the generic structure of each file (entry by entry, so that one bad device does
 * not hide the others), then each `visitor.<driver>` and `accessConfig.<driver>` with the driver's
 * schemas and `checkPoint`, then cross-references (models, templates, expression variables, types).
 */
import type { z } from 'zod';
import type { CompiledDevice, CompiledInstance, DeviceTopics, ModelProperty } from './compiled.ts';
import { defaultTopics } from './topics.ts';
import { buildModel, buildTemplate, checkMappings, hintOrList } from './schema/build.ts';
import type { CompileDriver, Err, Template } from './schema/build.ts';
import { deviceSchema, devicesFileSchema, TOPIC_KEYS } from './schema/devices.ts';
import type { DeviceInput } from './schema/devices.ts';
import { valueAt } from './schema/issues.ts';
import type { ConfigIssue, PathSegment } from './schema/issues.ts';
import { modelsFileSchema, productSchema } from './schema/models.ts';
import { templateFileSchema, templateSchema } from './schema/template.ts';
import { issueAt } from './schema/yaml.ts';
import type { LocateOptions, ParsedYaml } from './schema/yaml.ts';
import { parseAt } from './schema/zod-issues.ts';

export type { CompileDriver };

/** Input of {@link compile}. */
export interface CompileInput {
  /** The driver instance name (gateway.yaml `drivers[].name`). */
  readonly instanceName: string;
  /** The driver id: the key under `visitor` and `accessConfig`. */
  readonly driverId: string;
  /** The instance's folder (absolute). */
  readonly dir: string;
  readonly files: { readonly models: ParsedYaml; readonly template: ParsedYaml; readonly devices: ParsedYaml };
  readonly driver: CompileDriver;
}

/** Result of {@link compile}. `notes` are not errors (e.g. an rw attribute whose mapping cannot be inverted for writes). */
export type CompileResult =
  | { readonly ok: true; readonly instance: CompiledInstance; readonly notes: ConfigIssue[] }
  | { readonly ok: false; readonly errors: ConfigIssue[]; readonly notes: ConfigIssue[] };


/** Compiles one driver instance. */
export function compile(input: CompileInput): CompileResult {
  const { driverId, driver } = input;
  const { models: mf, template: tf, devices: df } = input.files;
  const errors: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  const err = (file: ParsedYaml, path: readonly PathSegment[], message: string, opts?: LocateOptions): void => {
    errors.push(issueAt(file, path, message, opts));
  };
  for (const f of [mf, tf, df]) errors.push(...f.issues);

  // models.yml — product → properties. `undefined` entries are products that failed to parse:
  // references to them are not reported again.
  const products = new Map<string, ReadonlyMap<string, ModelProperty> | undefined>();
  const modelsUsable = mf.issues.length === 0 && parseInto(modelsFileSchema, mf.data ?? {}, mf, [], errors);
  if (modelsUsable) {
    for (const [product, list] of Object.entries((mf.data ?? {}) as Record<string, unknown>)) {
      const r = parseAt(productSchema, list, mf, [product]);
      if (!r.ok) {
        errors.push(...r.issues);
        products.set(product, undefined);
        continue;
      }
      products.set(product, buildModel(product, r.value ?? [], mf, err));
    }
  }

  // access_template.yml — template → points and mappings (model-independent checks).
  const templates = new Map<string, Template | undefined>();
  const templatesUsable = tf.issues.length === 0 && parseInto(templateFileSchema, tf.data ?? {}, tf, [], errors);
  if (templatesUsable) {
    for (const [name, raw] of Object.entries((tf.data ?? {}) as Record<string, unknown>)) {
      const r = parseAt(templateSchema, raw, tf, [name]);
      if (!r.ok) {
        errors.push(...r.issues);
        // Still check the driver-specific addresses, so that their problems show in this pass too.
        const props = valueAt(raw, ['properties']);
        if (Array.isArray(props)) {
          props.forEach((p, j) => {
            const path = [name, 'properties', j, 'visitor', driverId];
            const v = valueAt(p, ['visitor', driverId]);
            if (v !== undefined && !errors.some((e) => startsWith(e.path, path))) {
              const a = parseAt(driver.addressSchema, v, tf, path);
              if (!a.ok) errors.push(...a.issues);
            }
          });
        }
        templates.set(name, undefined);
        continue;
      }
      templates.set(name, buildTemplate(name, r.value.properties, r.value.mappings, tf, driverId, driver, errors, err));
    }
  }

  // sub_devices.yml — devices one by one.
  const devices: CompiledDevice[] = [];
  let driverConfig = '';
  const checkedPairs = new Set<string>();
  const seen = new Map<string, number>();
  if (df.issues.length === 0) {
    const file = parseAt(devicesFileSchema, df.data ?? {}, df, []);
    if (!file.ok) errors.push(...file.issues);
    else {
      driverConfig = file.value.driver;
      file.value.devices.forEach((raw, i) => {
        const base: PathSegment[] = ['devices', i];
        const r = parseAt(deviceSchema, raw, df, base);
        if (!r.ok) {
          errors.push(...r.issues);
          // Still check the driver-specific connection, so that its problems show in this pass too.
          const path = [...base, 'accessConfig', driverId];
          const c = valueAt(raw, ['accessConfig', driverId]);
          if (c !== undefined && !r.issues.some((e) => startsWith(e.path, path))) {
            const cr = parseAt(driver.connectionSchema, c, df, path);
            if (!cr.ok) errors.push(...cr.issues);
          }
          return;
        }
        const d = r.value;
        const first = seen.get(d.name);
        if (first !== undefined) err(df, [...base, 'name'], `duplicate device name ${JSON.stringify(d.name)} (also devices[${first}])`);
        else seen.set(d.name, i);

        const model = products.get(d.deviceModel);
        if (modelsUsable && !products.has(d.deviceModel)) {
          err(df, [...base, 'deviceModel'], `model ${JSON.stringify(d.deviceModel)} is not in ${baseName(mf.path)}${hintOrList(d.deviceModel, products.keys(), 'its products')}`);
        }
        const template = templates.get(d.accessTemplate);
        if (templatesUsable && !templates.has(d.accessTemplate)) {
          err(df, [...base, 'accessTemplate'], `access template ${JSON.stringify(d.accessTemplate)} is not in ${baseName(tf.path)}${hintOrList(d.accessTemplate, templates.keys(), 'its templates')}`);
        }
        if (model !== undefined && template !== undefined) {
          const pair = `${d.accessTemplate}\u0000${d.deviceModel}`;
          if (!checkedPairs.has(pair)) {
            checkedPairs.add(pair);
            checkMappings(d.accessTemplate, d.deviceModel, template, model, tf, err, notes);
          }
        }
        const connection = buildConnection(d, base, input, errors, err);
        if (model === undefined || template === undefined || connection === undefined) return;
        devices.push({
          name: d.name,
          ...(d.version !== undefined ? { version: d.version } : {}),
          instance: input.instanceName,
          driver: driverId,
          product: d.deviceModel,
          accessTemplate: d.accessTemplate,
          model,
          points: template.points,
          mappings: template.mappings.map((m) => m.mapping),
          topics: topicsOf(d),
          connection,
        });
      });
    }
  }
  if (errors.length > 0) return { ok: false, errors, notes };
  return { ok: true, instance: { name: input.instanceName, driver: driverId, dir: input.dir, devices, driverConfig }, notes };
}

const startsWith = (path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean =>
  prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);


function parseInto(schema: z.ZodType, value: unknown, file: ParsedYaml, base: PathSegment[], errors: ConfigIssue[]): boolean {
  const r = parseAt(schema, value, file, base);
  if (!r.ok) errors.push(...r.issues);
  return r.ok;
}

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

function buildConnection(d: DeviceInput, base: PathSegment[], input: CompileInput, errors: ConfigIssue[], err: Err): CompiledDevice['connection'] | undefined {
  const file = input.files.devices;
  const { driverId, driver } = input;
  if (!(driverId in d.accessConfig)) {
    const found = Object.keys(d.accessConfig);
    err(file, [...base, 'accessConfig'], `no accessConfig.${driverId}: this instance runs driver "${driverId}", so every device needs its connection under accessConfig.${driverId}${found.length > 0 ? ` (found: ${found.join(', ')})` : ''}`);
    return undefined;
  }
  const path = [...base, 'accessConfig', driverId];
  const r = parseAt(driver.connectionSchema, d.accessConfig[driverId], file, path);
  if (!r.ok) {
    errors.push(...r.issues);
    return undefined;
  }
  const c = r.value as Record<string, unknown>;
  if (c === null || typeof c !== 'object' || typeof c.interval !== 'number' || typeof c.timeout !== 'number') {
    err(file, path, `driver "${driverId}" is broken: its connection schema must produce interval and timeout in ms`);
    return undefined;
  }
  if (driver.link !== undefined) {
    try {
      driver.link(c as never);
    } catch (e) {
      err(file, path, `driver "${driverId}" rejects this connection: ${(e as Error).message}`);
      return undefined;
    }
  }
  return c as CompiledDevice['connection'];
}

function topicsOf(d: DeviceInput): DeviceTopics {
  const defaults = defaultTopics(d.deviceModel, d.name);
  const out: Record<string, DeviceTopics[keyof DeviceTopics]> = {};
  for (const k of TOPIC_KEYS) {
    const t = d.deviceTopic?.[k];
    out[k] = t !== undefined && t !== null && t.topic.trim() !== '' ? { topic: t.topic, qos: t.qos } : defaults[k];
  }
  return out as unknown as DeviceTopics;
}
