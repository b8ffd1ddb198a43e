/**
 * Loading plugins from gateway.yaml: a good plugin compiles its instance with its own schemas;
 * a wrong sdkVersion, a taken id, a module that is no driver, a missing package and a bad point
 * in a template are refused with coded messages at the file and line.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/gateway/config/load.ts';
import type { ConfigIssue } from '../../src/devicemodel/schema/issues.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { checkSdkVersion } from '../../src/gateway/plugins/version.ts';
import { SDK_VERSION } from '../../src/drivers/sdk/index.ts';
import { linkFieldgate, REPO } from './link.ts';

const EXAMPLE = path.join(REPO, 'examples', 'driver-plugin');
const FIX = path.join(REPO, 'test', 'plugins', 'fixtures');
const dirs: string[] = [];

const MODELS = `
instrument:
  - {name: temperature, type: float32, mode: ro, unit: C}
`;
const TEMPLATE = (key: string) => `
kv-tpl:
  properties:
    - {name: temp, id: "1", type: float32, visitor: {kv: {key: ${JSON.stringify(key)}}}}
  mappings:
    - {attribute: temperature, type: value, expression: x1}
`;
const DEVICES = (port: string) => `
devices:
  - name: probe-1
    deviceModel: instrument
    accessTemplate: kv-tpl
    accessConfig:
      kv: {address: 127.0.0.1, port: ${port}, interval: 1s, timeout: 500ms}
driver: ""
`;

/** A configuration folder: gateway.yaml with `plugins`, one kv instance unless `instance` is false. */
function conf(plugins: string, opts: { key?: string; port?: string; instance?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-plugins-'));
  dirs.push(dir);
  const drivers = opts.instance === false ? '' : 'drivers:\n  - {name: lab, driver: kv}\n';
  writeFileSync(path.join(dir, 'gateway.yaml'), `node: n1\n${drivers}plugins:\n${plugins}`);
  if (opts.instance !== false) {
    mkdirSync(path.join(dir, 'lab'));
    writeFileSync(path.join(dir, 'lab', 'models.yml'), MODELS);
    writeFileSync(path.join(dir, 'lab', 'access_template.yml'), TEMPLATE(opts.key ?? 'temp'));
    writeFileSync(path.join(dir, 'lab', 'sub_devices.yml'), DEVICES(opts.port ?? '7070'));
  }
  return dir;
}

async function issuesOf(dir: string): Promise<ConfigIssue[]> {
  const r = await loadConfig(dir, createRegistry());
  assert.equal(r.ok, false, 'expected the configuration to be refused');
  return r.ok ? [] : r.issues;
}

before(() => linkFieldgate(EXAMPLE));
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('a plugin by path compiles its instance with its own schemas, isolated by default', async () => {
  const dir = conf(`  - path: ${EXAMPLE}\n`);
  const registry = createRegistry();
  const r = await loadConfig(dir, registry);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.issues));
  assert.deepEqual(r.config.plugins.map((p) => [p.path, p.mode]), [[EXAMPLE, 'isolated']]);
  const d = await registry.get('kv');
  assert.equal(d?.title, 'KV/1 line instruments (key=value over TCP)');
  assert.equal((d as unknown as { isolated?: boolean }).isolated, true);
  assert.deepEqual(r.instances[0]?.devices[0]?.connection, { address: '127.0.0.1', port: 7070, interval: 1000, timeout: 500, subscribe: false });
  assert.deepEqual(r.instances[0]?.devices[0]?.points.map((p) => p.address), [{ key: 'temp' }]);
  // Loading the same configuration again into the same registry is fine.
  assert.equal((await loadConfig(dir, registry)).ok, true);
});

test('inProcess mode hands out the plugin descriptor itself', async () => {
  const registry = createRegistry();
  const r = await loadConfig(conf(`  - {path: ${EXAMPLE}, mode: inProcess, id: kv}\n`), registry);
  assert.ok(r.ok);
  assert.equal((await registry.get('kv')) as unknown, (await import('../../examples/driver-plugin/src/index.ts')).default);
});

test('a wrong sdkVersion is refused with the versions that fit, at the line of the entry', async () => {
  const issues = await issuesOf(conf(`  - {path: ${path.join(FIX, 'future-sdk.ts')}}\n`, { instance: false }));
  assert.equal(issues.length, 1);
  const i = issues[0]!;
  assert.equal(path.basename(i.file), 'gateway.yaml');
  assert.deepEqual(i.path, ['plugins', 0, 'path']);
  assert.equal(i.line, 3);
  const sdk = SDK_VERSION.replace(/\./g, '\\.');
  assert.match(i.message, new RegExp(`^SdkVersionMismatch: plugin "future" needs SDK \\^2\\.0\\.0 \\(lowest: 2\\.0\\.0\\), but this gateway provides SDK ${sdk}; it fits plugins with sdkVersion \\^1\\.0\\.0`));
});

test('a plugin may not take a built-in id, nor one an earlier plugin has', async () => {
  const issues = await issuesOf(conf(`  - {path: ${EXAMPLE}}\n  - {path: ${path.join(FIX, 'steals-modbus.ts')}}\n  - {path: ${EXAMPLE}, mode: inProcess}\n`));
  assert.deepEqual(
    issues.map((i) => [i.path, i.line, i.message.split(':')[0]]),
    [
      [['plugins', 1, 'path'], 6, 'DuplicateDriverId'],
      [['plugins', 2, 'path'], 7, 'DuplicateDriverId'],
    ],
  );
  assert.match(issues[0]!.message, /driver id "modbus" .* is already taken by built-in driver/);
  assert.match(issues[1]!.message, /driver id "kv" .* is already taken by plugins\[0\]/);
});

test('a module without a descriptor, a missing package and a half-given entry are refused', async () => {
  const issues = await issuesOf(
    conf(`  - {path: ${path.join(FIX, 'not-a-driver.ts')}}\n  - {package: fieldgate-driver-nonexistent}\n  - {package: x, path: y}\n  - {mode: isolated}\n`, { instance: false }),
  );
  const msgs = issues.map((i) => `${JSON.stringify(i.path)} ${i.message}`);
  assert.equal(issues.length, 4, msgs.join('\n'));
  assert.match(msgs[0]!, /\["plugins",2,"path"\] give either package .* or path .*, not both/);
  assert.match(msgs[1]!, /\["plugins",3\] a plugin needs package: <npm package name> or path:/);
  assert.match(msgs[2]!, /\["plugins",0,"path"\] PluginShape: .* the module exports no driver descriptor .*exports: hello/);
  assert.match(msgs[3]!, /\["plugins",1,"package"\] PluginNotFound: package fieldgate-driver-nonexistent is not installed/);
});

test("a bad point address in a template is found at load time with the plugin's schema, file and line", async () => {
  const dir = conf(`  - path: ${EXAMPLE}\n`, { key: 'bad key!', port: '"http"' });
  const issues = await issuesOf(dir);
  const shown = issues.map((i) => `${path.basename(i.file)}:${i.line} ${i.path.join('.')}: ${i.message}`);
  assert.equal(issues.length, 2, shown.join('\n'));
  assert.ok(shown.some((s) => /^access_template\.yml:4 kv-tpl\.properties\.0\.visitor\.kv\.key: .*a key: 1–64 letters/.test(s)), shown.join('\n'));
  assert.ok(shown.some((s) => /^sub_devices\.yml:7 devices\.0\.accessConfig\.kv\.port: /.test(s)), shown.join('\n'));
});

test('checkSdkVersion: ranges that admit 1.0.0 pass; others name what fits', () => {
  assert.deepEqual(checkSdkVersion('a', '^1.0.0'), { ok: true });
  assert.deepEqual(checkSdkVersion('a', '>=1 <3'), { ok: true });
  assert.deepEqual(checkSdkVersion('a', '1.x', '1.4.0-rc.1'), { ok: true });
  const old = checkSdkVersion('a', '~0.9.0');
  assert.equal(old.ok || old.code, 'SdkVersionMismatch');
  const bad = checkSdkVersion('a', 'banana');
  assert.equal(bad.ok || bad.code, 'SdkVersionInvalid');
  assert.match(bad.ok ? '' : bad.message, /write e\.g\. "\^1\.0\.0"/);
});
