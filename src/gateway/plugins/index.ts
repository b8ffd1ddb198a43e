/**
 * Driver plugins: loading (package or path, SDK range, ids), isolation in worker threads, and the
 * scaffold. loadConfig() calls the loader for the `plugins:` of gateway.yaml, so the CLI needs no
 * extra wiring; `loadPlugins` is here for callers that build a registry themselves.
 */
export { loadPlugin, loadPlugins, PluginError } from './loader.ts';
export type { LoadedPlugin, PluginEntry, PluginErrorCode, PluginsResult } from './loader.ts';
export { isolate } from './isolated.ts';
export type { IsolatedDescriptor, PluginSource } from './isolated.ts';
export { WorkerHost } from './worker-host.ts';
export type { IsolationOptions, WorkerStats } from './worker-host.ts';
export { checkSdkVersion } from './version.ts';
export type { SdkCheck } from './version.ts';
export { pickDescriptor, DescriptorShapeError } from './descriptor.ts';
