/**
 * Loads the plugins named in gateway.yaml: finds each module, imports it in the gateway's thread
 * (for its static descriptor: schemas, capabilities, link rule), checks its shape, its SDK range
 * and its id, and produces registry loaders. An `isolated` plugin's drivers then run in worker
 * threads; an `inProcess` one's in the gateway's thread. Every refusal has a code and says what
 * would fit.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DriverDescriptor } from '../../drivers/sdk/index.ts';
import { DescriptorShapeError, pickDescriptor } from './descriptor.ts';
import { isolate } from './isolated.ts';
import type { IsolationOptions } from './worker-host.ts';
import { linkSdkPeer } from './peer.ts';
import { PluginNotFound, resolvePlugin } from './resolve.ts';
import { checkSdkVersion } from './version.ts';

/** One `plugins:` entry of gateway.yaml, as the config schema produces it. */
export interface PluginEntry {
  /** npm package name (resolved from `baseDir` upward). */
  readonly package?: string;
  /** A module file or package folder, relative to `baseDir`. */
  readonly path?: string;
  /** Named export holding the descriptor (default: the default export, then `descriptor`). */
  readonly export?: string;
  /** The id the plugin must declare (guards against installing the wrong package). */
  readonly id?: string;
  /** Default `isolated`. */
  readonly mode: 'inProcess' | 'isolated';
  readonly isolation?: IsolationOptions;
}

/** Codes of loader refusals. */
export type PluginErrorCode =
  | 'PluginNotFound'
  | 'PluginImportFailed'
  | 'PluginShape'
  | 'SdkVersionMismatch'
  | 'SdkVersionInvalid'
  | 'PluginIdMismatch'
  | 'DuplicateDriverId';

/** A refused plugin. `field` is the key of the entry to point at in messages. */
export class PluginError extends Error {
  override readonly name = 'PluginError';
  constructor(
    readonly code: PluginErrorCode,
    message: string,
    readonly field: 'package' | 'path' | 'id' | 'export' = 'package',
  ) {
    super(message);
  }
}

/** A plugin ready to register. */
export interface LoadedPlugin {
  readonly id: string;
  readonly mode: 'inProcess' | 'isolated';
  /** Absolute module file. */
  readonly file: string;
  /** What the registry hands out: the plugin's own descriptor, or its isolated wrapper. */
  readonly descriptor: DriverDescriptor;
}

/** Loads and checks one plugin (throws {@link PluginError}). */
export async function loadPlugin(entry: PluginEntry, baseDir: string): Promise<LoadedPlugin> {
  const where = entry.path !== undefined ? 'path' : 'package';
  const shown = entry.package ?? entry.path ?? '?';
  let file: string;
  try {
    file = resolvePlugin(entry, baseDir);
  } catch (e) {
    if (e instanceof PluginNotFound) throw new PluginError('PluginNotFound', e.message, where);
    throw e;
  }
  // A plugin folder that was never installed lacks its `fieldgate` peer: link this gateway in.
  if (entry.path !== undefined) linkSdkPeer(file);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new PluginError('PluginImportFailed', `plugin ${shown} (${path.relative(baseDir, file) || file}) failed to import: ${(e as Error).message}`, where);
  }
  let descriptor: DriverDescriptor;
  try {
    descriptor = pickDescriptor(mod, entry.export);
  } catch (e) {
    if (e instanceof DescriptorShapeError) throw new PluginError('PluginShape', `plugin ${shown} is not a fieldgate driver: ${e.message}`, entry.export !== undefined ? 'export' : where);
    throw e;
  }
  const v = checkSdkVersion(descriptor.id, descriptor.sdkVersion);
  if (!v.ok) throw new PluginError(v.code, v.message, where);
  if (entry.id !== undefined && entry.id !== descriptor.id) {
    throw new PluginError('PluginIdMismatch', `plugin ${shown} declares id ${JSON.stringify(descriptor.id)}, but the configuration expects ${JSON.stringify(entry.id)}`, 'id');
  }
  const wrapped = entry.mode === 'isolated' ? isolate(descriptor, { entry: pathToFileURL(file).href, ...(entry.export !== undefined ? { exportName: entry.export } : {}) }, entry.isolation) : descriptor;
  return { id: descriptor.id, mode: entry.mode, file, descriptor: wrapped };
}

/** Result of {@link loadPlugins}: what loaded, and one refusal per entry that did not. */
export interface PluginsResult {
  /** `index`: the entry's position in the list given. */
  readonly plugins: (LoadedPlugin & { readonly index: number })[];
  /** For `createRegistry(extra)`. */
  readonly loaders: Record<string, () => Promise<DriverDescriptor>>;
  readonly errors: { readonly index: number; readonly error: PluginError }[];
}

/**
 * Loads every entry; an id already taken (by a built-in, see `taken`, or an earlier entry) is a
 * `DuplicateDriverId` refusal. Never throws for a bad plugin: each one becomes an error.
 */
export async function loadPlugins(entries: readonly PluginEntry[], baseDir: string, taken: (id: string) => string | undefined = () => undefined): Promise<PluginsResult> {
  const plugins: (LoadedPlugin & { index: number })[] = [];
  const loaders: Record<string, () => Promise<DriverDescriptor>> = {};
  const errors: { index: number; error: PluginError }[] = [];
  const ours = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    try {
      const p = await loadPlugin(entry, baseDir);
      const earlier = ours.get(p.id);
      const other = earlier !== undefined ? `plugins[${earlier}] (${entries[earlier]?.package ?? entries[earlier]?.path})` : taken(p.id);
      if (other !== undefined) {
        throw new PluginError('DuplicateDriverId', `driver id ${JSON.stringify(p.id)} of plugin ${entry.package ?? entry.path} is already taken by ${other}; ids are unique per gateway`, entry.path !== undefined ? 'path' : 'package');
      }
      ours.set(p.id, index);
      plugins.push({ ...p, index });
      loaders[p.id] = () => Promise.resolve(p.descriptor);
    } catch (e) {
      if (e instanceof PluginError) errors.push({ index, error: e });
      else errors.push({ index, error: new PluginError('PluginImportFailed', (e as Error).message) });
    }
  }
  return { plugins, loaders, errors };
}
