/**
 * Driver registry: built-in drivers by id, each imported only when a device uses it (heavy stacks
 * such as node-opcua load lazily). Plugins join through `extra` or `register` (the config loader
 * registers the `plugins:` of gateway.yaml before it compiles the driver instances).
 */
import type { BaseConnection, DriverDescriptor } from '../../drivers/sdk/index.ts';

type AnyDescriptor = DriverDescriptor<BaseConnection, unknown>;
type Loader = () => Promise<AnyDescriptor>;

const BUILT_IN: Readonly<Record<string, Loader>> = {
  modbus: async () => (await import('../../drivers/modbus/index.ts')).descriptor as unknown as AnyDescriptor,
  iec104: async () => (await import('../../drivers/iec104/index.ts')).iec104Driver as unknown as AnyDescriptor,
  opcua: async () => (await import('../../drivers/opcua/index.ts')).descriptor as unknown as AnyDescriptor,
  bacnet: async () => (await import('../../drivers/bacnet/index.ts')).descriptor as unknown as AnyDescriptor,
  ipc: async () => (await import('../../drivers/ipc/index.ts')).descriptor as unknown as AnyDescriptor,
};

export interface DriverRegistry {
  get(id: string): Promise<AnyDescriptor | undefined>;
  ids(): string[];
  /** Who provides `id` ("built-in driver", or the origin given to `register`); undefined when free. */
  origin(id: string): string | undefined;
  /**
   * Adds a driver. Returns undefined when done, or a message when `id` is taken by another origin
   * (registering the same origin again is a no-op, so a configuration may be loaded twice).
   */
  register(id: string, loader: () => Promise<DriverDescriptor<any, any>>, origin: string): string | undefined;
}

/** A registry of the built-in drivers plus any registered ones. */
export function createRegistry(extra: Readonly<Record<string, Loader>> = {}): DriverRegistry {
  const loaders: Record<string, Loader> = { ...BUILT_IN, ...extra };
  const origins = new Map<string, string>(Object.keys(loaders).map((id) => [id, id in BUILT_IN && !(id in extra) ? 'built-in driver' : 'plugin']));
  const cache = new Map<string, Promise<AnyDescriptor>>();
  return {
    ids: () => Object.keys(loaders).sort(),
    origin: (id) => origins.get(id),
    register(id, loader, origin) {
      const had = origins.get(id);
      if (had === origin) return undefined;
      if (had !== undefined) return `driver id ${JSON.stringify(id)} is already taken by ${had}`;
      loaders[id] = loader as Loader;
      origins.set(id, origin);
      return undefined;
    },
    get(id) {
      const load = loaders[id];
      if (load === undefined) return Promise.resolve(undefined);
      let p = cache.get(id);
      if (p === undefined) {
        p = load();
        cache.set(id, p);
      }
      return p;
    },
  };
}
