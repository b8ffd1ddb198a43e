/**
 * `fieldgate discover opcua` against the OPC UA simulator as `fieldgate simulate` serves it (the
 * `opcua` entry of simulators/index.ts: the configuration's endpoint port and user): the YAML it
 * prints names every variable the simulator serves with its node id, type and access (rw for
 * writable variables); the folder it writes loads as a driver instance as it is; bad options, a
 * refused user and an endpoint where nothing listens give clear messages and exit codes 2 and 1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { simulateCommand } from '../../simulators/index.ts';
import type { OpcuaSimulator } from '../../simulators/opcua/simulator.ts';
import { discoverCommand } from '../../src/gateway/cli/discover.ts';
import type { DiscoverCliOptions } from '../../src/gateway/cli/discover.ts';
import { freePort, load, writeConf } from '../e2e/harness.ts';

// What the simulator serves, under Objects/<device>/<point name>; "status" maps to a read-only
// attribute, so the simulator makes its variable read-only (AccessLevel without CurrentWrite).
const TEMPLATE = `
boiler-tpl:
  properties:
    - {name: temperature, id: "1", type: float64, visitor: {opcua: {nodeid: "ns=2;s=Boiler.Temperature"}}}
    - {name: setpoint, id: "2", type: float32, visitor: {opcua: {nodeid: "ns=2;i=42"}}}
    - {name: count, id: "3", type: uint32, visitor: {opcua: {nodeid: "ns=2;s=Boiler.Count"}}}
    - {name: running, id: "4", type: bool, visitor: {opcua: {nodeid: "ns=2;s=Boiler.Running"}}}
    - {name: label, id: "5", type: string, visitor: {opcua: {nodeid: "ns=2;s=Boiler.Label"}}}
    - {name: status, id: "6", type: int16, visitor: {opcua: {nodeid: "ns=2;s=Boiler.Status"}}}
  mappings:
    - {attribute: status, type: value, expression: x6}
`;

let sim: OpcuaSimulator;
let tmp: string;
let simConf: { dir: string; cleanup: () => void };
const stopSim = new AbortController();
let simulating: Promise<void>;
const simLog: string[] = [];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-discover-'));
  const port = await freePort();
  simConf = writeConf(
    {
      gateway: 'node: sim\nembeddedBroker: {host: 127.0.0.1, port: 1}\ndrivers:\n  - {name: ua, driver: opcua}\n',
      models: 'boiler:\n  - {name: status, type: int16, mode: ro}\n',
      template: TEMPLATE,
      devices: `devices:\n  - {name: boiler, deviceModel: boiler, accessTemplate: boiler-tpl, accessConfig: {opcua: {endpoint: "opc.tcp://127.0.0.1:${port}", auth: {username: op, password: s3cret}}}}\ndriver: ""\n`,
    },
    'ua',
  );
  await new Promise<void>((resolve, reject) => {
    simulating = simulateCommand({ configDir: simConf.dir, signal: stopSim.signal, log: (l) => void simLog.push(l), onReady: (s) => {
      sim = s.opcua!.server('boiler');
      resolve();
    } });
    simulating.catch(reject);
  });
});

after(async () => {
  stopSim.abort();
  await simulating?.catch(() => undefined);
  simConf?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

function capture(): { out: string[]; err: string[]; io: { stdout: (t: string) => void; stderr: (t: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) } };
}

const base = (): DiscoverCliOptions => ({ endpoint: sim.endpoint, username: 'op', password: 's3cret', dataDir: path.join(tmp, 'pki') });

test('prints models.yml, access_template.yml and sub_devices.yml for the variables it browses', async () => {
  const c = capture();
  const code = await discoverCommand('opcua', { ...base(), product: 'boiler', template: 'boiler-ua' }, c.io);
  assert.equal(code, 0, c.err.join(''));
  const docs = parseAllDocuments(c.out.join('')).map((d) => d.toJS() as Record<string, any>);
  assert.equal(docs.length, 3);
  assert.match(c.out.join(''), /^# models\.yml\n/);
  const [models, templates, subs] = docs as [Record<string, any[]>, Record<string, any>, any];
  const model = Object.fromEntries(models.boiler!.map((p) => [p.name, p]));
  assert.deepEqual(
    Object.fromEntries(Object.entries(model).map(([k, p]: [string, any]) => [k, `${p.type}/${p.mode}`])),
    { temperature: 'float64/rw', setpoint: 'float32/rw', count: 'uint32/rw', running: 'bool/rw', label: 'string/rw', status: 'int16/ro' },
  );
  const props = templates['boiler-ua'].properties as { name: string; id: string; visitor: { opcua: { nodeid: string; type: string } } }[];
  assert.deepEqual(Object.fromEntries(props.map((p) => [p.name, p.visitor.opcua.nodeid])), {
    temperature: 'ns=2;s=Boiler.Temperature',
    setpoint: 'ns=2;i=42',
    count: 'ns=2;s=Boiler.Count',
    running: 'ns=2;s=Boiler.Running',
    label: 'ns=2;s=Boiler.Label',
    status: 'ns=2;s=Boiler.Status',
  });
  for (const p of props) {
    assert.equal(p.visitor.opcua.type, model[p.name].type);
    assert.ok(templates['boiler-ua'].mappings.some((m: any) => m.attribute === p.name && m.expression === `x${p.id}`), p.name);
  }
  assert.equal(subs.devices[0].accessConfig.opcua.endpoint, sim.endpoint);
  assert.deepEqual(subs.devices[0].accessConfig.opcua.auth, { username: 'op', password: 's3cret' });
  // `fieldgate simulate` served the device on its configured port with its user.
  assert.ok(simLog.some((l) => l.includes(sim.endpoint) && l.includes('boiler') && l.includes('users op')), simLog.join('\n'));
  assert.match(c.err.join(''), /6 variable\(s\) \(5 writable\)/);
});

test('writes a folder that loads as a driver instance; refuses to overwrite without --force', async () => {
  const conf = path.join(tmp, 'conf');
  const c = capture();
  assert.equal(await discoverCommand('opcua', { ...base(), out: path.join(conf, 'plant'), device: 'boiler-1', policy: 'Basic256Sha256' }, c.io), 0, c.err.join(''));
  writeFileSync(path.join(conf, 'gateway.yaml'), 'node: t\nembeddedBroker: {host: 127.0.0.1, port: 1}\ndrivers:\n  - {name: plant, driver: opcua}\n');
  const { instances } = await load(conf);
  const d = instances[0]!.devices[0]!;
  assert.equal(d.name, 'boiler-1');
  assert.equal(d.points.length, 6);
  assert.deepEqual((d.connection as unknown as { security: unknown }).security, { policy: 'Basic256Sha256', mode: 'SignAndEncrypt' });
  // The signed-and-encrypted browse pinned the server certificate for this endpoint (trust on first use).
  const pins = JSON.parse(readFileSync(path.join(tmp, 'pki', 'opcua', 'pinned.json'), 'utf8')) as Record<string, string>;
  assert.match(pins[sim.endpoint] ?? '', /^[0-9a-f]{40}$/);

  const again = capture();
  assert.equal(await discoverCommand('opcua', { ...base(), out: path.join(conf, 'plant') }, again.io), 2);
  assert.match(again.err.join(''), /already in .*--force/);
  assert.equal(await discoverCommand('opcua', { ...base(), out: path.join(conf, 'plant'), force: true }, capture().io), 0);
});

test('bad options exit 2 naming the option; an endpoint where nothing listens exits 1', async () => {
  const c = capture();
  assert.equal(await discoverCommand('opcua', { endpoint: 'http://127.0.0.1:4840', mode: 'Sign', dataDir: path.join(tmp, 'pki') }, c.io), 2);
  const text = c.err.join('');
  assert.match(text, /endpoint: an endpoint is e\.g\. opc\.tcp:\/\//);
  assert.match(text, /security: policy None goes with mode None/);
  assert.equal(c.out.length, 0);

  const none = capture();
  assert.equal(await discoverCommand('opcua', { dataDir: path.join(tmp, 'pki') }, none.io), 2);
  assert.match(none.err.join(''), /give --endpoint/);

  const proto = capture();
  assert.equal(await discoverCommand('bacnet', base(), proto.io), 2);
  assert.match(proto.err.join(''), /available: opcua/);

  const anonymous = capture();
  assert.equal(await discoverCommand('opcua', { endpoint: sim.endpoint, dataDir: path.join(tmp, 'pki') }, anonymous.io), 1);
  assert.match(anonymous.err.join(''), /Config: .*offers no anonymous user identity .*auth\.username\/password/);

  const wrong = capture();
  assert.equal(await discoverCommand('opcua', { ...base(), password: 'wrong' }, wrong.io), 1);
  assert.match(wrong.err.join(''), /Config: .*Bad\w+ \(check auth\.username\/password/);

  const dead = capture();
  const port = await freePort();
  assert.equal(await discoverCommand('opcua', { endpoint: `opc.tcp://127.0.0.1:${port}`, timeout: '2s', dataDir: path.join(tmp, 'pki') }, dead.io), 1);
  assert.match(dead.err.join(''), /Offline|Timeout/);
});
