/**
 * Maps what modbus-serial rejects with onto DriverError codes. modbus-serial signals errors by
 * message and `errno` (index.js: "Timed out"/ETIMEDOUT, "Port Not Open"/ECONNREFUSED), by
 * `modbusCode` for exception responses, and by plain messages for CRC and length problems.
 */
import { DriverError, isDriverError } from '../sdk/index.ts';

/** Modbus exception codes (Modbus Application Protocol V1.1b3 §7). */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Exception code 2: the address (or a register inside the requested range) does not exist. */
export const ILLEGAL_DATA_ADDRESS = 2;

const OFFLINE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EACCES', 'EBUSY']);

/** Turns anything a modbus-serial call rejected with into a coded DriverError. */
export function toModbusError(e: unknown): DriverError {
  if (isDriverError(e)) return e;
  const o = (typeof e === 'object' && e !== null ? e : {}) as { message?: unknown; errno?: unknown; code?: unknown; modbusCode?: unknown };
  const message = typeof o.message === 'string' && o.message !== '' ? o.message : String(e);
  if (typeof o.modbusCode === 'number') {
    const code = o.modbusCode;
    const name = EXCEPTION_NAMES[code] ?? 'unknown exception';
    return new DriverError(code === ILLEGAL_DATA_ADDRESS ? 'BadAddress' : 'Exception', `Modbus exception ${code} (${name})`, {
      cause: e,
      detail: { exceptionCode: code },
    });
  }
  const errno = typeof o.errno === 'string' ? o.errno : typeof o.code === 'string' ? o.code : '';
  if (errno === 'ETIMEDOUT' || /timed out/i.test(message)) return new DriverError('Timeout', message, { cause: e });
  if (OFFLINE_ERRNOS.has(errno) || /port not open|closed|not open/i.test(message)) {
    return new DriverError('Offline', message, { cause: e });
  }
  // "CRC error", "Data length error, expected …", "Unexpected data error, expected …".
  return new DriverError('Protocol', message, { cause: e });
}
