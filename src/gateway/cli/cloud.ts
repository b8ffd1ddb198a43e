/**
 * `fieldgate cloud …`: the cloud simulator from the command line.
 *   fieldgate cloud serve [--port 1884] [--http-port 8884] [--file shadows.json]
 *   fieldgate cloud set DEVICE prop=value … [--url http://127.0.0.1:8884] [--node NODE]
 *   fieldgate cloud get DEVICE [--url …] [--node NODE]
 * Values of `set` are JSON when they parse as JSON (`21.5`, `true`, `"x"`, `{"a":1}`), else strings.
 * Exit codes: 0 ok, 1 failure (cloud unreachable, unknown device), 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import type { AttributeValue } from '../../devicemodel/types.ts';
import { stringifyJson } from '../../devicemodel/json.ts';
import { parseJsonExact } from '../mqtt/jsonparse.ts';
import { startCloudSimulator } from '../../../simulators/cloud/index.ts';

/** Default MQTT port of `cloud serve` (the gateway's `cloud.url`). */
export const DEFAULT_CLOUD_MQTT_PORT = 1884;
/** Default HTTP port of `cloud serve`. */
export const DEFAULT_CLOUD_HTTP_PORT = 8884;
const DEFAULT_URL = process.env['FIELDGATE_CLOUD_URL'] ?? `http://127.0.0.1:${DEFAULT_CLOUD_HTTP_PORT}`;

/** Parses `prop=value` words into a desired patch. */
export function parseAssignments(words: readonly string[]): { ok: true; props: Record<string, AttributeValue> } | { ok: false; error: string } {
  const props: Record<string, AttributeValue> = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) return { ok: false, error: `expected prop=value, got ${JSON.stringify(w)}` };
    const name = w.slice(0, eq);
    const text = w.slice(eq + 1);
    const parsed = parseJsonExact(text);
    Object.defineProperty(props, name, {
      value: parsed.kind === 'ok' ? (parsed.value as AttributeValue) : text,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (Object.keys(props).length === 0) return { ok: false, error: 'no prop=value given' };
  return { ok: true, props };
}

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(2, 'fieldgate.badPort', `not a port: ${v}`);
  return n;
}

function withNode(url: string, node: string | undefined): string {
  return node === undefined ? url : `${url}?node=${encodeURIComponent(node)}`;
}

async function call(url: string, init?: RequestInit): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    process.stderr.write(`cannot reach the cloud simulator at ${url}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const text = await res.text();
  const parsed = parseJsonExact(text);
  const pretty = parsed.kind === 'ok' ? JSON.stringify(parsed.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) : text;
  (res.ok ? process.stdout : process.stderr).write(`${pretty}\n`);
  return res.ok ? 0 : 1;
}

/** Runs `fieldgate cloud <args>`; resolves to the exit code (for `serve`, once stopped by a signal). */
export async function cloudCommand(args: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command('cloud')
    .description('the cloud simulator: serve it, set desired values, read shadows')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('serve')
    .description('run the cloud simulator (its own MQTT broker and an HTTP API) until Ctrl-C')
    .option('--port <n>', 'MQTT port for the gateways (cloud.url)', port, DEFAULT_CLOUD_MQTT_PORT)
    .option('--http-port <n>', 'HTTP API port', port, DEFAULT_CLOUD_HTTP_PORT)
    .option('--host <addr>', 'listen address', '127.0.0.1')
    .option('--file <path>', 'JSON file to load the shadows from and save them to')
    .action(async (o: { port: number; httpPort: number; host: string; file?: string }) => {
      const sim = await startCloudSimulator({ port: o.port, httpPort: o.httpPort, host: o.host, ...(o.file !== undefined ? { file: o.file } : {}) });
      process.stdout.write(
        `cloud simulator: MQTT ${sim.url} (set cloud.url in gateway.yaml), HTTP ${sim.httpUrl}\n` +
          `  set a desired value:  fieldgate cloud set DEVICE prop=value --url ${sim.httpUrl}\n` +
          `                        curl -X POST -H 'content-type: application/json' -d '{"prop":1}' ${sim.httpUrl}/devices/DEVICE/desired\n` +
          `  read a shadow:        fieldgate cloud get DEVICE --url ${sim.httpUrl}\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await sim.close();
    });

  program
    .command('set')
    .description('set desired values of a device: fieldgate cloud set DEVICE prop=value ...')
    .argument('<device>')
    .argument('<assignments...>', 'prop=value (value as JSON when it parses, else a string)')
    .option('--url <url>', 'HTTP URL of the cloud simulator', DEFAULT_URL)
    .option('--node <node>', 'node of the device, when several nodes have one of that name')
    .action(async (device: string, words: string[], o: { url: string; node?: string }) => {
      const a = parseAssignments(words);
      if (!a.ok) {
        process.stderr.write(`${a.error}\n`);
        code = 2;
        return;
      }
      code = await call(withNode(`${o.url}/devices/${encodeURIComponent(device)}/desired`, o.node), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stringifyJson(a.props),
      });
    });

  program
    .command('get')
    .description('show a device as the cloud sees it (reported, desired, delta, versions)')
    .argument('<device>')
    .option('--url <url>', 'HTTP URL of the cloud simulator', DEFAULT_URL)
    .option('--node <node>', 'node of the device')
    .action(async (device: string, o: { url: string; node?: string }) => {
      code = await call(withNode(`${o.url}/devices/${encodeURIComponent(device)}`, o.node));
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return code;
}
