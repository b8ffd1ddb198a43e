/**
 * What the simulator needs from each way of serving devices (Modbus/TCP, RTU over TCP, RTU on a
 * serial port): start, stop, stop abruptly, and drop clients on purpose.
 */
import type { ModbusSimDevice } from '../device.ts';

/** Where an endpoint listens, for printing and for tests to connect to. */
export type EndpointInfo =
  | { readonly kind: 'tcp' | 'rtu-over-tcp'; readonly host: string; readonly port: number; readonly units: readonly number[]; readonly devices: readonly string[] }
  | { readonly kind: 'serial'; readonly path: string; readonly units: readonly number[]; readonly devices: readonly string[] };

/** One served link with its devices. */
export interface Endpoint {
  /** Where it listens (the real port once started, when 0 was asked for). */
  info(): EndpointInfo;
  /** Opens the listener / port. Rejects when the port cannot be bound or opened. */
  start(): Promise<void>;
  /** Closes the listener and all client connections; pending delayed replies are discarded. */
  stop(): Promise<void>;
  /** Like stop, but resets TCP connections (RST) instead of closing them. */
  kill(): Promise<void>;
  /** Closes all client connections now and refuses new ones for `refuseMs` (serial: stays silent). */
  disconnect(refuseMs: number): Promise<void>;
}

/** Devices by unit id, as every endpoint routes them. */
export type UnitMap = ReadonlyMap<number, ModbusSimDevice>;

/** A plan of what to do with one reply, for the unit it answers for. */
export function replyPlanFor(devices: UnitMap, unit: number | undefined) {
  const d = unit === undefined ? undefined : devices.get(unit);
  return d === undefined ? { drop: false, delayMs: 0, truncate: false } : d.planReply();
}
