/**
 * The driver of one instance: a Baetyl process-mode driver hosted from the instance's folder
 * (`baetyl:` in gateway.yaml), or the registry's driver of that id. One place, so that loading
 * the configuration and running it use the same descriptor.
 */
import type { BaseConnection, DriverDescriptor } from '../../drivers/sdk/index.ts';

type AnyDescriptor = DriverDescriptor<BaseConnection, unknown>;

export interface InstanceDriverConfig {
  readonly driver: string;
  /** Absolute folder of the instance. */
  readonly path: string;
  readonly baetyl?: { readonly entry?: string; readonly driverName?: string; readonly startTimeout?: number };
}

const hosted = new Map<string, Promise<AnyDescriptor>>();

export function descriptorForInstance(cfg: InstanceDriverConfig, registry: { get(id: string): Promise<DriverDescriptor<any, any> | undefined> }): Promise<AnyDescriptor | undefined> {
  if (cfg.baetyl === undefined) return registry.get(cfg.driver) as Promise<AnyDescriptor | undefined>;
  const key = `${cfg.path}\0${cfg.driver}\0${JSON.stringify(cfg.baetyl)}`;
  let p = hosted.get(key);
  if (p === undefined) {
    const b = cfg.baetyl;
    p = import('../baetyl-host/index.ts').then(({ baetylDriverLoader }) =>
      baetylDriverLoader(cfg.path, {
        id: cfg.driver,
        ...(b.entry !== undefined ? { entry: b.entry } : {}),
        ...(b.driverName !== undefined ? { driverName: b.driverName } : {}),
        ...(b.startTimeout !== undefined ? { startTimeout: b.startTimeout } : {}),
      })(),
    );
    // A failed load is not cached: the next validate/reload tries again.
    p.catch(() => hosted.delete(key));
    hosted.set(key, p);
  }
  return p;
}
