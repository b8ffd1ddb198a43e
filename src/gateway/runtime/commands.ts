/**
 * Downlink commands from the broker, routed by the envelope's `kind` and `meta.device` (as
 * baetyl-gateway does): deltas are written, property gets and `report` events read now.
 * A bad command is answered with an error message and never crashes the gateway.
 */
import type { Logger } from '../../drivers/sdk/index.ts';
import type { Downlink } from '../mqtt/downlink.ts';
import type { CommandError, DeviceRuntime } from './device.ts';

export interface CommandSink {
  /** Answers a rejected or failed command (on the device's `get` topic). */
  rejected(device: DeviceRuntime, reqId: string | undefined, errors: readonly CommandError[]): Promise<void>;
  /** Answers a `deviceDesire` shadow request on `getResponse`. */
  shadowRequested(device: DeviceRuntime): Promise<void>;
}

/** Longest text of an error answer: far below baetyl-broker's 32 KB packet limit. */
export const MAX_ERROR_TEXT = 4096;

/**
 * One line for a command's errors: `property: message` each (the property once, even when the
 * message already starts with it), joined by `; ` and cut at `maxChars` with the count left out,
 * so that a delta with thousands of bad keys gets an answer a broker accepts.
 */
export function errorText(errors: readonly CommandError[], maxChars = MAX_ERROR_TEXT): string {
  let out = '';
  for (let i = 0; i < errors.length; i++) {
    const e = errors[i]!;
    const part = e.property && !e.message.startsWith(`${e.property}:`) ? `${e.property}: ${e.message}` : e.message;
    const next = out === '' ? part : `${out}; ${part}`;
    const rest = errors.length - i;
    if (next.length > maxChars && out !== '') return `${out}; … and ${rest} more`;
    out = next.length > maxChars ? `${next.slice(0, maxChars)}…` : next;
  }
  return out;
}

export interface CommandCounters {
  deltas: number;
  reads: number;
  shadowRequests: number;
  rejected: number;
  invalid: number;
}

export class CommandRouter {
  readonly counters: CommandCounters = { deltas: 0, reads: 0, shadowRequests: 0, rejected: 0, invalid: 0 };

  constructor(
    private readonly devices: ReadonlyMap<string, DeviceRuntime>,
    private readonly sink: CommandSink,
    private readonly log: Logger,
  ) {}

  /** Handles one parsed downlink message. Never throws. */
  async handle(msg: Downlink): Promise<void> {
    try {
      await this.dispatch(msg);
    } catch (e) {
      this.log.error({ err: String(e) }, 'command failed');
    }
  }

  private async dispatch(msg: Downlink): Promise<void> {
    if (msg.kind === 'ignored' || msg.kind === 'shadowResponse') return;
    if (msg.kind === 'invalid') {
      this.counters.invalid++;
      this.log.warn({ device: msg.device, reason: msg.reason }, 'invalid downlink message');
      const dev = msg.device === undefined ? undefined : this.devices.get(msg.device);
      if (dev) await this.sink.rejected(dev, undefined, [{ property: '', code: 'BadValue', message: msg.reason }]);
      return;
    }
    const dev = this.devices.get(msg.device);
    if (dev === undefined) {
      this.counters.invalid++;
      this.log.warn({ device: msg.device, kind: msg.kind }, 'downlink for an unknown device');
      return;
    }
    if (msg.kind === 'delta') {
      this.counters.deltas++;
      if (Object.keys(msg.properties).length === 0) return;
      const errors = await dev.write(msg.properties);
      if (errors.length > 0) {
        this.counters.rejected++;
        this.log.warn({ device: dev.name, errors }, 'delta rejected');
        await this.sink.rejected(dev, msg.reqId, errors);
      }
      return;
    }
    if (msg.kind === 'shadowRequest') {
      this.counters.shadowRequests++;
      await this.sink.shadowRequested(dev);
      return;
    }
    if (msg.kind === 'propertyGet' || msg.kind === 'readNow') {
      this.counters.reads++;
      await dev.readNow(msg.kind === 'propertyGet' ? msg.names : []);
    }
  }
}
