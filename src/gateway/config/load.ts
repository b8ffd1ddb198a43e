/**
 * Loads a configuration folder: gateway.yaml, then each driver instance's three Baetyl files,
 * compiled with the instance's driver. Collects every issue of every file before answering, so a
 * person fixes the configuration in one pass.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { compile } from '../../devicemodel/compile.ts';
import type { CompiledInstance } from '../../devicemodel/compiled.ts';
import { didYouMean, valueAt } from '../../devicemodel/schema/issues.ts';
import type { ConfigIssue } from '../../devicemodel/schema/issues.ts';
import { issueAt, parseYaml } from '../../devicemodel/schema/yaml.ts';
import type { ParsedYaml } from '../../devicemodel/schema/yaml.ts';
import { parseAt } from '../../devicemodel/schema/zod-issues.ts';
import type { DriverDescriptor } from '../../drivers/sdk/types.ts';
import { descriptorForInstance } from '../drivers/instance-driver.ts';
import { crossCheckGateway, driverInstanceSchema, gatewayFileSchema, pluginEntrySchema, resolveGatewayConfig, resolvePluginEntry } from './gateway-schema.ts';
import type { GatewayConfig, PluginConfig } from './gateway-schema.ts';
import { loadPlugins } from '../plugins/loader.ts';

/** Where drivers are found (the gateway's driver registry satisfies it). */
export interface DriverLookup {
  get(id: string): Promise<DriverDescriptor<any, any> | undefined>;
  ids(): string[];
  /** Who provides an id (for duplicate-id messages); needed only for `plugins:`. */
  origin?(id: string): string | undefined;
  /** Adds a plugin driver; returns a message when the id is taken. Needed only for `plugins:`. */
  register?(id: string, loader: () => Promise<DriverDescriptor<any, any>>, origin: string): string | undefined;
}

/** Result of {@link loadConfig}. `notes` are hints that do not stop the gateway. */
export type LoadResult =
  | { readonly ok: true; readonly config: GatewayConfig; readonly instances: CompiledInstance[]; readonly notes: ConfigIssue[] }
  | { readonly ok: false; readonly issues: ConfigIssue[] };

/** The three files of a driver instance and what each must hold (for "missing file" messages). */
const INSTANCE_FILES = {
  models: ['models.yml', 'the device models (products): { <product>: [ {name, type, mode}, ... ] }'],
  template: ['access_template.yml', 'the access templates: { <template>: { properties: [...], mappings: [...] } }'],
  devices: ['sub_devices.yml', 'the devices: { devices: [ {name, deviceModel, accessTemplate, accessConfig}, ... ], driver: "" }'],
} as const;

/**
 * Reads and parses one YAML file. `shownAs` is the name used in messages (default: `file`).
 * Rejects with the fs error (e.g. code ENOENT) when the file cannot be read.
 */
export async function loadYamlFile(file: string, shownAs: string = file): Promise<ParsedYaml> {
  const source = await readFile(file, 'utf8');
  return parseYaml(shownAs, source);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a file that may be spelled .yml or .yaml; undefined when neither exists. */
async function readEither(dir: string, shownDir: string, name: string): Promise<ParsedYaml | undefined> {
  const alt = name.endsWith('.yml') ? `${name.slice(0, -4)}.yaml` : `${name.slice(0, -5)}.yml`;
  for (const n of [name, alt]) {
    try {
      return await loadYamlFile(path.join(dir, n), path.join(shownDir, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return undefined;
}

/**
 * Loads `gateway.yaml` from a folder (or the file itself when given) and compiles every driver
 * instance it lists. Paths in the result are absolute; paths in issues are as the caller named them.
 */
export async function loadConfig(dirOrFile: string, registry: DriverLookup): Promise<LoadResult> {
  const issues: ConfigIssue[] = [];
  const givenIsDir = await isDir(dirOrFile);
  const shownDir = givenIsDir ? path.normalize(dirOrFile) : path.dirname(dirOrFile);
  const absDir = path.resolve(shownDir);
  let gw: ParsedYaml | undefined;
  try {
    gw = givenIsDir ? await readEither(absDir, shownDir, 'gateway.yaml') : await loadYamlFile(path.resolve(dirOrFile), dirOrFile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (gw === undefined) {
    const shown = givenIsDir ? path.join(shownDir, 'gateway.yaml') : dirOrFile;
    return { ok: false, issues: [{ file: shown, path: [], message: `not found: the gateway's settings (node, broker, drivers: [{name, driver, path}]) must be in this file` }] };
  }
  issues.push(...gw.issues);
  if (gw.issues.length > 0) return { ok: false, issues };

  const parsed = parseAt(gatewayFileSchema, gw.data ?? {}, gw, []);
  const cross = crossCheckGateway(gw.data).map((c) => issueAt(gw, c.path, c.message));
  let config: GatewayConfig | undefined;
  let drivers: { name: string; driver: string; path?: string | undefined; baetyl?: { entry?: string; driverName?: string; startTimeout?: number } | undefined; index: number }[];
  if (parsed.ok && cross.length === 0) {
    config = resolveGatewayConfig(parsed.value, path.resolve(absDir, path.basename(gw.path)));
    drivers = parsed.value.drivers.map((d, index) => ({ ...d, index }));
  } else {
    if (!parsed.ok) issues.push(...parsed.issues);
    issues.push(...cross);
    // Keep checking the instances whose entries are valid, so that all problems show at once.
    const list = valueAt(gw.data, ['drivers']);
    drivers = [];
    if (Array.isArray(list)) {
      list.forEach((d, index) => {
        const r = driverInstanceSchema.safeParse(d);
        if (r.success) drivers.push({ ...r.data, index });
      });
    }
  }

  // Plugins first: their schemas compile the instances below, exactly like built-ins.
  issues.push(...(await registerPlugins(gw, config?.plugins ?? validPluginEntries(gw.data, absDir), absDir, registry)));

  const instances: CompiledInstance[] = [];
  const notes: ConfigIssue[] = [];
  const deviceOwner = new Map<string, string>();
  for (const d of drivers) {
    const rel = d.path ?? `./${d.name}`;
    const shownInst = path.isAbsolute(rel) ? rel : path.join(shownDir, rel);
    const absInst = path.resolve(absDir, rel);
    const at = ['drivers', d.index];

    let descriptor: DriverDescriptor<any, any> | undefined;
    try {
      descriptor = await descriptorForInstance({ driver: d.driver, path: absInst, ...(d.baetyl ? { baetyl: d.baetyl } : {}) }, registry);
      if (descriptor === undefined) {
        const known = registry.ids();
        issues.push(issueAt(gw, [...at, 'driver'], `unknown driver ${JSON.stringify(d.driver)}${didYouMean(d.driver, known) ? `${didYouMean(d.driver, known)} Known` : '; known'} drivers: ${known.join(', ') || '(none)'}`));
      }
    } catch (e) {
      issues.push(issueAt(gw, [...at, 'driver'], `driver ${JSON.stringify(d.driver)} failed to load: ${(e as Error).message}`));
    }

    if (!(await isDir(absInst))) {
      issues.push(issueAt(gw, d.path !== undefined ? [...at, 'path'] : [...at, 'name'], `folder ${shownInst} not found: driver instance ${JSON.stringify(d.name)} needs it with models.yml, access_template.yml and sub_devices.yml${d.path === undefined ? ' (set path: to use another folder)' : ''}`));
      continue;
    }
    const files: Partial<Record<keyof typeof INSTANCE_FILES, ParsedYaml>> = {};
    for (const [key, [name, what]] of Object.entries(INSTANCE_FILES) as [keyof typeof INSTANCE_FILES, readonly [string, string]][]) {
      const f = await readEither(absInst, shownInst, name);
      if (f === undefined) issues.push({ file: path.join(shownInst, name), path: [], message: `file not found: driver instance ${JSON.stringify(d.name)} needs ${what}` });
      else files[key] = f;
    }
    if (files.models === undefined || files.template === undefined || files.devices === undefined) {
      for (const f of Object.values(files)) issues.push(...f.issues);
      continue;
    }
    if (descriptor === undefined) {
      for (const f of Object.values(files)) issues.push(...f.issues);
      continue;
    }
    const r = compile({
      instanceName: d.name,
      driverId: d.driver,
      dir: absInst,
      files: { models: files.models, template: files.template, devices: files.devices },
      driver: descriptor,
    });
    notes.push(...r.notes);
    if (!r.ok) {
      issues.push(...r.errors);
      continue;
    }
    // Device names are unique per node: `$baetyl/device/{name}/...` topics do not carry the instance.
    for (const dev of r.instance.devices) {
      const owner = deviceOwner.get(dev.name);
      if (owner !== undefined) {
        const list = valueAt(files.devices.data, ['devices']);
        const k = Array.isArray(list) ? list.findIndex((x) => valueAt(x, ['name']) === dev.name) : -1;
        issues.push(issueAt(files.devices, k >= 0 ? ['devices', k, 'name'] : [], `duplicate device name ${JSON.stringify(dev.name)}: driver instance ${JSON.stringify(owner)} has a device with this name (names are unique per node)`));
      } else {
        deviceOwner.set(dev.name, d.name);
      }
    }
    instances.push(r.instance);
  }
  if (issues.length > 0 || config === undefined) return { ok: false, issues };
  return { ok: true, config, instances, notes };
}

/** The plugin entries that parse, when gateway.yaml as a whole does not (to report them too). */
function validPluginEntries(data: unknown, dir: string): PluginConfig[] {
  const list = valueAt(data, ['plugins']);
  const out: PluginConfig[] = [];
  if (!Array.isArray(list)) return out;
  list.forEach((p, i) => {
    const r = pluginEntrySchema.safeParse(p);
    if (r.success && (r.data.package === undefined) !== (r.data.path === undefined)) out.push(resolvePluginEntry(r.data, i, dir));
  });
  return out;
}

/** Loads the `plugins:` of gateway.yaml into the registry; one issue per refused plugin. */
async function registerPlugins(gw: ParsedYaml, plugins: readonly PluginConfig[], dir: string, registry: DriverLookup): Promise<ConfigIssue[]> {
  if (plugins.length === 0) return [];
  const register = registry.register;
  if (register === undefined) return [issueAt(gw, ['plugins'], 'plugins cannot be loaded here: this driver registry does not accept plugins')];
  const issues: ConfigIssue[] = [];
  // Ids of the gateway's own drivers are checked here; one registered by a plugin of an earlier
  // load is checked by register() (same module and mode again is fine).
  const builtIn = (id: string): string | undefined => {
    const o = registry.origin?.(id) ?? (registry.ids().includes(id) ? 'a driver of this gateway' : undefined);
    return o?.startsWith('plugin ') ? undefined : o;
  };
  const r = await loadPlugins(plugins, dir, builtIn);
  for (const { index, error } of r.errors) {
    const entry = plugins[index]!;
    issues.push(issueAt(gw, ['plugins', entry.index, error.field], `${error.code}: ${error.message}`));
  }
  for (const p of r.plugins) {
    const entry = plugins[p.index]!;
    const taken = register.call(registry, p.id, () => Promise.resolve(p.descriptor), `plugin ${p.file} (${p.mode})`);
    if (taken !== undefined) issues.push(issueAt(gw, ['plugins', entry.index, entry.path !== undefined ? 'path' : 'package'], `DuplicateDriverId: ${taken}`));
  }
  return issues;
}
