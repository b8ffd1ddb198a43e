/** Shared helpers for the Modbus driver tests: points, devices, a driver context, free ports. */
import net from 'node:net';
import { modbusAddressSchema, modbusConnectionSchema } from '../../src/drivers/modbus/address.ts';
import type { ModbusAddress, ModbusConnection } from '../../src/drivers/modbus/address.ts';
import type { DeviceRef, DriverContext, Logger, Point, PointType } from '../../src/drivers/sdk/index.ts';

/** A point from Baetyl-style visitor keys (`function`, `address`, …). */
export function pt(id: string, type: PointType, visitor: Record<string, unknown>): Point<ModbusAddress> {
  return { id, name: `p${id}`, type, address: modbusAddressSchema.parse(visitor) };
}

/** A device from Baetyl-style `accessConfig.modbus` keys. */
export function dev(name: string, access: Record<string, unknown>): DeviceRef<ModbusConnection> {
  return { name, connection: modbusConnectionSchema.parse(access) };
}

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

/** A driver context with real time, a silent logger and a metrics recorder. */
export function context(): DriverContext & { counts: Map<string, number>; warnings: unknown[] } {
  const counts = new Map<string, number>();
  const warnings: unknown[] = [];
  const log: Logger = { ...quiet, warn: (o) => void warnings.push(o), child: () => log };
  return {
    log,
    clock: {
      now: () => Date.now(),
      monotonic: () => performance.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    metrics: { count: (name, _l, by = 1) => void counts.set(name, (counts.get(name) ?? 0) + by) },
    signal: new AbortController().signal,
    dataDir: '/nonexistent',
    counts,
    warnings,
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

/** A fresh abort signal that never fires (for calls that need one). */
export const never = new AbortController().signal;
