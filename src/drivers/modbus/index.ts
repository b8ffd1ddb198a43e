/**
 * The Modbus driver: Modbus/TCP, RTU on a serial port, and RTU frames over TCP, through
 * modbus-serial. Points of one table are batched into FC1–FC4 requests (see plan.ts); writes use
 * FC5/FC15/FC6/FC16.
 */
import type { DriverContext, DriverDescriptor } from '../sdk/index.ts';
import { checkModbusPoint, modbusAddressSchema, modbusConnectionSchema } from './address.ts';
import type { ModbusAddress, ModbusConnection } from './address.ts';
import { linkWindow, ModbusSession } from './session.ts';
import { linkKey } from './transport.ts';

/** The Modbus driver descriptor (`visitor.modbus`, `accessConfig.modbus`). */
export const descriptor: DriverDescriptor<ModbusConnection, ModbusAddress> = {
  id: 'modbus',
  version: '0.1.0',
  sdkVersion: '^1.0.0',
  title: 'Modbus TCP / RTU',
  connectionSchema: modbusConnectionSchema,
  addressSchema: modbusAddressSchema,
  checkPoint: checkModbusPoint,
  capabilities: {
    read: true,
    write: true,
    subscribe: false,
    discover: false,
    batch: true,
    // FC1/FC2 read up to 2000 bits, each of which can be a point (Modbus V1.1b3 §6.1).
    maxPointsPerRead: 2000,
  },
  /**
   * Devices on one TCP endpoint (same framing) or one serial port share a link. Modbus/TCP may
   * pipeline up to `window` requests; a serial bus, and RTU frames over TCP (no transaction id
   * to match answers), take one at a time.
   */
  link: (connection) => ({ key: linkKey(connection), window: linkWindow(connection) }),
  create: (ctx: DriverContext) => ({
    connect: (connection, options) => ModbusSession.open(connection, options, ctx),
  }),
};

export default descriptor;
