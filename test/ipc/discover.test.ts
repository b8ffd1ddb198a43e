/**
 * `fieldgate discover onvif`: the WS-Discovery codec (Probe text, ProbeMatches parsing), then a
 * unicast Probe to the camera simulator's discovery port, a connect with the credentials, and the
 * Baetyl files it prints or writes, which load as a driver instance as they are.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startCameraSimulator } from '../../simulators/ipc/index.ts';
import type { CameraSimulator } from '../../simulators/ipc/index.ts';
import { buildProbe, parseProbeMatches } from '../../src/drivers/ipc/wsdiscovery.ts';
import { discoverOnvifCommand } from '../../src/gateway/cli/discover-onvif.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';

let sim: CameraSimulator;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-ipc-disc-'));
  sim = await startCameraSimulator({ username: 'admin', password: 'pw', discoveryPort: 0 });
});

after(async () => {
  await sim?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A ProbeMatches as ONVIF cameras send it (WS-Discovery 2005/04 §5.3), other prefixes than ours.
const MATCHES = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery">
<SOAP-ENV:Header><wsa:MessageID>urn:uuid:5</wsa:MessageID><wsa:RelatesTo>urn:uuid:abc</wsa:RelatesTo></SOAP-ENV:Header>
<SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch>
<wsa:EndpointReference><wsa:Address>urn:uuid:cam-1</wsa:Address></wsa:EndpointReference>
<wsdd:Types>dn:NetworkVideoTransmitter tds:Device</wsdd:Types>
<wsdd:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Cam%201</wsdd:Scopes>
<wsdd:XAddrs>http://127.0.0.1:8090/onvif/device_service http://[::1]:8090/onvif/device_service</wsdd:XAddrs>
<wsdd:MetadataVersion>1</wsdd:MetadataVersion></wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>`;

test('WS-Discovery codec: the Probe asks for NetworkVideoTransmitter; ProbeMatches parse with any prefixes', () => {
  const p = buildProbe('urn:uuid:abc');
  assert.match(p, /<a:MessageID>urn:uuid:abc<\/a:MessageID>/);
  assert.match(p, /<a:Action>http:\/\/schemas\.xmlsoap\.org\/ws\/2005\/04\/discovery\/Probe<\/a:Action>/);
  assert.match(p, /<d:Types>dn:NetworkVideoTransmitter<\/d:Types>/);
  const r = parseProbeMatches(MATCHES);
  assert.deepEqual(r, {
    kind: 'ok',
    relatesTo: 'urn:uuid:abc',
    matches: [
      {
        endpoint: 'urn:uuid:cam-1',
        types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
        scopes: ['onvif://www.onvif.org/type/video_encoder', 'onvif://www.onvif.org/name/Cam%201'],
        xaddrs: ['http://127.0.0.1:8090/onvif/device_service', 'http://[::1]:8090/onvif/device_service'],
      },
    ],
  });
  assert.equal(parseProbeMatches(p).kind, 'error');
});

test('discover onvif: a unicast Probe finds the simulator and prints a model, a template and a sub-device', async () => {
  let stdout = '';
  let stderr = '';
  const code = await discoverOnvifCommand(
    { address: '127.0.0.1', port: sim.discoveryPort!, user: 'admin', password: 'pw', timeout: '2s' },
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
  );
  assert.equal(code, 0, stderr);
  assert.match(stderr, /Fieldgate SIM-IPC-1 \(serial FG-IPC-0001\), 2 profile\(s\), PTZ/);
  const docs = parseAllDocuments(stdout).map((d) => d.toJS());
  assert.equal(docs.length, 3);
  const [models, templates, subDevices] = docs as [Record<string, { name: string; type: string; mode: string }[]>, Record<string, { properties: { name: string; visitor: { ipc: string } }[] }>, { devices: { name: string; deviceModel: string; accessTemplate: string; accessConfig: { ipc: Record<string, unknown> } }[] }];
  const model = models['fieldgate-sim-ipc-1']!;
  assert.ok(model.some((p) => p.name === 'main-width' && p.type === 'int32' && p.mode === 'ro'));
  assert.ok(model.some((p) => p.name === 'ptz-move' && p.mode === 'rw'));
  const tpl = templates['fieldgate-sim-ipc-1-ipc']!;
  const byName = new Map(tpl.properties.map((p) => [p.name, p.visitor.ipc]));
  assert.equal(byName.get('main-stream-uri'), 'profile[main].streamUri');
  assert.equal(byName.get('sub-height'), 'profile[sub].height');
  assert.equal(byName.get('manufacturer'), 'info.manufacturer');
  const dev = subDevices.devices[0]!;
  assert.deepEqual(dev.accessConfig.ipc, { ip: '127.0.0.1', port: sim.port, username: 'admin', password: 'pw', interval: '5s' });
  assert.equal(dev.name, 'camera-fg-ipc-0001');
  assert.equal(dev.deviceModel, 'fieldgate-sim-ipc-1');
});

test('discover onvif --out: the folder loads as an ipc driver instance; errors exit 1 or 2', async () => {
  const out = path.join(dir, 'cams');
  let stderr = '';
  const code = await discoverOnvifCommand({ address: '127.0.0.1', port: String(sim.discoveryPort), username: 'admin', password: 'pw', timeout: '2s', out, product: 'cam', template: 'cam-tpl', device: 'gate-cam' }, { stderr: (t) => (stderr += t) });
  assert.equal(code, 0, stderr);
  writeFileSync(path.join(dir, 'gateway.yaml'), 'node: t\ndrivers:\n  - {name: cams, driver: ipc}\n');
  const r = await loadConfig(dir, createRegistry());
  assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  const devices = r.instances[0]!.devices;
  assert.equal(devices[0]!.name, 'gate-cam');
  assert.ok(devices[0]!.points.length > 20);
  // Existing files without --force, bad options, nobody answering.
  assert.equal(await discoverOnvifCommand({ port: String(sim.discoveryPort), out }, { stderr: () => undefined }), 2);
  assert.equal(await discoverOnvifCommand({ user: 'x' }, { stderr: () => undefined }), 2);
  assert.equal(await discoverOnvifCommand({ timeout: 'soon' }, { stderr: () => undefined }), 2);
  let none = '';
  assert.equal(await discoverOnvifCommand({ address: '127.0.0.1', port: sim.port, timeout: '300ms' }, { stderr: (t) => (none += t) }), 1);
  assert.match(none, /no camera answered/);
  // Wrong password: the camera is found but cannot be read.
  let bad = '';
  assert.equal(await discoverOnvifCommand({ port: sim.discoveryPort!, user: 'admin', password: 'nope', timeout: '2s' }, { stderr: (t) => (bad += t) }), 1);
  assert.match(bad, /Config: .*refused the credentials/);
});
