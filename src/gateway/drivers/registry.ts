/**
 * Driver registry: built-in drivers by id, each imported only when a device uses it (heavy stacks
 * such as node-opcua load lazily). Plugins join through `register`.
 */
import type { BaseConnection, DriverDescriptor } from '../../drivers/sdk/index.ts';

type AnyDescriptor = DriverDescriptor<BaseConnection, unknown>;
type Loader = () => Promise<AnyDescriptor>;

const BUILT_IN: Readonly<Record<string, Loader>> = {
  modbus: async () => (await import('../../drivers/modbus/index.ts')).descriptor as unknown as AnyDescriptor,
  iec104: async () => (await import('../../drivers/iec104/index.ts')).iec104Driver as unknown as AnyDescriptor,
};

export interface DriverRegistry {
  get(id: string): Promise<AnyDescriptor | undefined>;
  ids(): string[];
}

/** A registry of the built-in drivers plus any registered ones. */
export function createRegistry(extra: Readonly<Record<string, Loader>> = {}): DriverRegistry {
  const loaders: Record<string, Loader> = { ...BUILT_IN, ...extra };
  const cache = new Map<string, Promise<AnyDescriptor>>();
  return {
    ids: () => Object.keys(loaders).sort(),
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
