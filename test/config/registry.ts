/**
 * A tiny driver registry for config tests: the Modbus descriptor made from the schemas in
 * src/drivers/modbus/address.ts (the real ones) plus inert capabilities/link/create, and a
 * permissive "generic" descriptor for the protocols whose drivers are not written yet.
 */
import { z } from 'zod';
import type { DriverDescriptor } from '../../src/drivers/sdk/types.ts';
import { baseConnectionShape } from '../../src/drivers/sdk/schema.ts';
import { checkModbusPoint, modbusAddressSchema, modbusConnectionSchema } from '../../src/drivers/modbus/address.ts';
import type { DriverLookup } from '../../src/gateway/config/load.ts';

const inert = {
  version: '0.0.0',
  sdkVersion: '^1.0.0',
  capabilities: { read: true, write: true, subscribe: false, discover: false, batch: true },
  create: () => {
    throw new Error('not in config tests');
  },
};

export const modbusDescriptor: DriverDescriptor<any, any> = {
  ...inert,
  id: 'modbus',
  title: 'Modbus (schemas only)',
  connectionSchema: modbusConnectionSchema,
  addressSchema: modbusAddressSchema,
  checkPoint: checkModbusPoint,
  link: (c: { tcp?: { address: string; port: number }; rtu?: { port: string } }) => ({
    key: c.tcp ? `tcp:${c.tcp.address}:${c.tcp.port}` : `rtu:${c.rtu?.port}`,
    window: 1,
  }),
};

/** Accepts any map with Baetyl's interval/timeout: the generic structure only. */
export function genericDescriptor(id: string): DriverDescriptor<any, any> {
  return {
    ...inert,
    id,
    title: `${id} (generic)`,
    connectionSchema: z.looseObject(baseConnectionShape({ interval: 5000, timeout: 10_000 })),
    addressSchema: z.looseObject({}),
    link: () => ({ key: id, window: 1 }),
  };
}

export function registryOf(...descriptors: DriverDescriptor<any, any>[]): DriverLookup {
  const byId = new Map(descriptors.map((d) => [d.id, d]));
  return { get: async (id) => byId.get(id), ids: () => [...byId.keys()].sort() };
}
