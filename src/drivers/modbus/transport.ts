/**
 * Opens a modbus-serial client for one link, from a table of three transports:
 * Modbus/TCP (MBAP), RTU frames over a serial port, and RTU frames over a TCP socket (a
 * transparent serial-to-Ethernet gateway). modbus-serial loads on first use, so a gateway
 * without Modbus devices never loads it.
 */
import type ModbusPkg from 'modbus-serial';
import { DriverError } from '../sdk/index.ts';
import type { ModbusConnection } from './address.ts';
import { toModbusError } from './errors.ts';

/** The modbus-serial client class (the CJS module's `default` under NodeNext typing). */
type ModbusClass = (typeof ModbusPkg)['default'];
/** A connected modbus-serial client. */
export type ModbusClient = InstanceType<ModbusClass>;

/** How frames travel on a link; decides the window and inter-frame silence. */
export type LinkKind = 'tcp' | 'rtu-over-tcp' | 'serial';

/** The kind of link a connection describes. */
export function linkKind(connection: ModbusConnection): LinkKind {
  if (connection.tcp !== undefined) return connection.tcp.framing === 'rtu' ? 'rtu-over-tcp' : 'tcp';
  return 'serial';
}

/** The link key: devices with the same key share one client (several unit ids on one bus). */
export function linkKey(connection: ModbusConnection): string {
  const { tcp, rtu } = connection;
  if (tcp !== undefined) return `tcp:${tcp.address}:${tcp.port}:${tcp.framing}`;
  return `rtu:${rtu?.port ?? ''}`;
}

const PARITY = { E: 'even', N: 'none', O: 'odd' } as const;

async function loadClientClass(): Promise<ModbusClass> {
  const mod = (await import('modbus-serial')) as unknown as { default: ModbusClass & { default?: ModbusClass } };
  // CJS interop: the class is module.exports, which also carries itself as `.default`.
  return mod.default.default ?? mod.default;
}

/**
 * Connects a client. Rejects with `Offline` when the endpoint refuses or the port cannot be
 * opened, and with `Timeout` when connecting takes longer than `connection.timeout`.
 */
export async function openClient(connection: ModbusConnection, signal: AbortSignal): Promise<ModbusClient> {
  const ModbusRTU = await loadClientClass();
  const client = new ModbusRTU();
  // modbus-serial re-emits port errors on the client; an EventEmitter 'error' without a listener
  // would crash the process. The session adds its own handlers after connecting.
  const swallow = () => {};
  client.on('error', swallow);
  const { tcp, rtu } = connection;
  const connecting: Promise<void> =
    tcp !== undefined
      ? tcp.framing === 'rtu'
        ? client.connectTelnet(tcp.address, { port: tcp.port })
        : client.connectTCP(tcp.address, { port: tcp.port })
      : client.connectRTUBuffered(rtu?.port ?? '', {
          baudRate: rtu?.baudrate ?? 19200,
          parity: PARITY[rtu?.parity ?? 'E'],
          dataBits: rtu?.databit ?? 8,
          stopBits: rtu?.stopbit ?? 1,
        });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const where = tcp !== undefined ? `${tcp.address}:${tcp.port}` : (rtu?.port ?? '');
  try {
    await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DriverError('Timeout', `connecting to ${where} took longer than ${connection.timeout} ms`)), connection.timeout);
        onAbort = () => reject(new DriverError('Offline', `connecting to ${where} was aborted`));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } catch (e) {
    destroyClient(client);
    connecting.catch(() => {});
    const err = toModbusError(e);
    // A refused or failed open is the link being down, whatever the library's wording.
    throw err.code === 'Timeout' ? err : new DriverError('Offline', `cannot open ${where}: ${err.message}`, { cause: e });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
  return client;
}

/** Closes a client at once, never throwing (the socket or port may already be gone). */
export function destroyClient(client: ModbusClient): Promise<void> {
  return new Promise((resolve) => {
    // TCP ports have destroy(); a serial port only close() (modbus-serial's destroy() would
    // then do nothing and leave the port open).
    const port = (client as unknown as { _port?: { destroy?: unknown } })._port;
    try {
      if (typeof port?.destroy === 'function') client.destroy(() => resolve());
      else client.close(() => resolve());
    } catch {
      resolve();
    }
    // Serial ports close asynchronously and some transports never call back on a dead port.
    setTimeout(resolve, 500).unref();
  });
}
