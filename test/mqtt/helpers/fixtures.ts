/** Shared fixtures of the MQTT tests: a compiled device with Baetyl's default topics, a memory logger. */
import type { CompiledDevice, DeviceTopics } from '../../../src/devicemodel/compiled.ts';
import type { Logger } from '../../../src/drivers/sdk/types.ts';

/** Baetyl's `dm/store.go` topic templates, QoS as baetyl-gateway's example (lifecycle 1, rest 0). */
export function baetylTopics(product: string, device: string, qos: 0 | 1 = 0): DeviceTopics {
  return {
    report: { topic: `thing/${product}/${device}/property/post`, qos },
    delta: { topic: `thing/${product}/${device}/property/invoke`, qos },
    event: { topic: `thing/${product}/${device}/raw/c2d`, qos },
    get: { topic: `$baetyl/device/${device}/get`, qos },
    getResponse: { topic: `$baetyl/device/${device}/getResponse`, qos },
    eventReport: { topic: `thing/${product}/${device}/event/post`, qos },
    propertyGet: { topic: `thing/${product}/${device}/property/get`, qos },
    lifecycleReport: { topic: `thing/${product}/${device}/lifecycle/post`, qos: 1 },
  };
}

/** A device as compile() makes it; only the fields the MQTT side reads matter. */
export function device(name = 'device-test-1', product = 'product-test', accessTemplate = 'access-template-test'): CompiledDevice {
  return {
    name,
    instance: 'modbus-1',
    driver: 'modbus',
    product,
    accessTemplate,
    model: new Map(),
    points: [],
    mappings: [],
    topics: baetylTopics(product, name),
    connection: { interval: 5000, timeout: 1000 },
  };
}

export interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps its lines. */
export function memoryLog(lines: LogLine[] = []): Logger & { lines: LogLine[] } {
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj: { ...obj } as Record<string, unknown>, msg: msg ?? '' });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => memoryLog(lines) };
}

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Resolves when `cond()` holds, polling every 10 ms; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
