/**
 * `npm run package` as a release engineer runs it: the zip for this machine's architecture is
 * read back with Python's zipfile (an independent reader that checks every CRC), unpacked with
 * the recorded permissions, and its entry script is started the way Baetyl's native mode starts a
 * program (through the symlinked program folder, working directory = the service instance folder,
 * configuration volume at ./etc/fieldgate). A foreign architecture is refused.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { readElfIdent, machineName } from '../../deploy/package/elf.ts';
import { hostTarget, TARGETS } from '../../deploy/package/targets.ts';

const root = path.resolve(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
const host = hostTarget();
const work = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-package-'));
const unpacked = path.join(work, 'unpacked');

interface Entry {
  readonly name: string;
  readonly mode: number;
  readonly system: number;
  readonly dir: boolean;
}
let entries: Entry[] = [];

/** Unpacks with Python's zipfile, applying each entry's Unix mode as unzip and Go's archive/zip do. */
const UNPACK_PY = `
import json, os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
out = []
for i in z.infolist():
    z.extract(i, sys.argv[2])
    mode = (i.external_attr >> 16) & 0o7777
    if not i.is_dir() and mode:
        os.chmod(os.path.join(sys.argv[2], i.filename), mode)
    out.append({"name": i.filename, "mode": mode, "system": i.create_system, "dir": i.is_dir()})
print(json.dumps({"bad": bad, "entries": out}))
`;

function packageCmd(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/package.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function elfFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) elfFiles(p, out);
    else if (e.isFile()) {
      const fd = openSync(p, 'r');
      const b = Buffer.alloc(20);
      const n = readSync(fd, b, 0, 20, 0);
      closeSync(fd);
      if (readElfIdent(b.subarray(0, n)) !== undefined) out.push(p);
    }
  }
  return out;
}

before(() => {
  assert.ok(host, `this test builds the package for the machine it runs on, which must be one of ${TARGETS.map((t) => t.id).join(', ')}`);
  const r = packageCmd(['--arch', host.id, '--out', work, '--level', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`built +.*fieldgate-${version.replace(/\./g, '\\.')}-${host.id}\\.zip`));
  const py = spawnSync('/usr/bin/python3', ['-c', UNPACK_PY, path.join(work, `fieldgate-${version}-${host.id}.zip`), unpacked], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
  assert.equal(py.status, 0, py.stderr);
  const listing = JSON.parse(py.stdout) as { bad: string | null; entries: Entry[] };
  assert.equal(listing.bad, null, `CRC error in ${listing.bad}`);
  entries = listing.entries;
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the zip is named with the architecture and holds program.yml naming an executable entry', () => {
  const names = new Set(entries.map((e) => e.name));
  assert.ok(names.has('program.yml'), 'program.yml at the root of the zip');
  const program = parse(readFileSync(path.join(unpacked, 'program.yml'), 'utf8')) as { entry?: unknown };
  assert.equal(typeof program.entry, 'string');
  const entryName = program.entry as string;
  const entry = entries.find((e) => e.name === entryName);
  assert.ok(entry, `the entry ${entryName} is in the zip`);
  assert.equal(entry.system, 3, 'made by Unix, so the mode bits are honoured');
  assert.equal(entry.mode & 0o111, 0o111, `${entryName} is executable (mode ${entry.mode.toString(8)})`);
  assert.match(readFileSync(path.join(unpacked, entryName), 'utf8'), /^#!\/bin\/sh\n/);
  const info = JSON.parse(readFileSync(path.join(unpacked, 'BUILD-INFO.json'), 'utf8')) as { arch: string; version: string; node: { required?: string } };
  assert.equal(info.arch, host?.id);
  assert.equal(info.version, version);
  assert.equal(info.node.required, '>=20.10');
});

test('it holds the sources and the production node_modules only, with binaries for this CPU', () => {
  const names = new Set(entries.map((e) => e.name));
  for (const n of ['bin/fieldgate.mjs', 'src/gateway/cli/main.ts', 'console/index.html', 'conf/gateway.yaml', 'node_modules/tsx/package.json', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node']) {
    assert.ok(names.has(n), `${n} is packaged`);
  }
  for (const dev of ['typescript', 'playwright-core', 'node-opcua-server', '@types/better-sqlite3']) {
    assert.ok(![...names].some((n) => n.startsWith(`node_modules/${dev}/`)), `devDependency ${dev} is left out`);
  }
  assert.ok(![...names].some((n) => n.endsWith('.d.ts') || n.startsWith('conf/data/') || n.endsWith('.db')), 'no type declarations, no local data');
  const prebuildFolders = new Set([...names].map((n) => /\/prebuilds\/([^/]+)\//.exec(n)?.[1]).filter((f) => f !== undefined));
  assert.deepEqual([...prebuildFolders], [`linux-${host?.nodeArch}`], 'prebuilds for this platform only');
  const elves = elfFiles(path.join(unpacked, 'node_modules'));
  assert.ok(elves.length >= 3, `native binaries found: ${elves.length}`);
  for (const f of elves) {
    const fd = openSync(f, 'r');
    const b = Buffer.alloc(20);
    readSync(fd, b, 0, 20, 0);
    closeSync(fd);
    const id = readElfIdent(b);
    assert.equal(id?.machine, host?.elfMachine, `${path.relative(unpacked, f)} is ${machineName(id?.machine ?? 0)}`);
  }
});

test('the entry script validates a configuration from the unpacked folder (0 when valid, 2 when not)', () => {
  const ok = spawnSync(path.join(unpacked, 'fieldgate.sh'), ['validate', '-c', 'conf'], { cwd: unpacked, encoding: 'utf8', timeout: 90_000 });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /conf: OK \(\d+ driver instance\(s\), \d+ device\(s\)\)/);
  const broken = path.join(work, 'broken');
  mkdirSync(broken);
  writeFileSync(path.join(broken, 'gateway.yaml'), 'node: x\nbrokr: {}\n');
  const bad = spawnSync(path.join(unpacked, 'fieldgate.sh'), ['validate', '-c', broken], { cwd: unpacked, encoding: 'utf8', timeout: 90_000 });
  assert.equal(bad.status, 2, bad.stdout);
  assert.match(bad.stderr, /brokr/);
});

test('started as Baetyl starts a program, it runs the conf volume at ./etc/fieldgate and serves /health', async () => {
  // Baetyl's native mode: the program package is linked at <instance>/var/lib/baetyl/bin, the
  // configuration volume is written to <instance>/etc/fieldgate, the working directory is <instance>.
  const instance = path.join(work, 'run/baetyl-edge/fieldgate/v1/fieldgate/1');
  mkdirSync(path.join(instance, 'var/lib/baetyl'), { recursive: true });
  symlinkSync(unpacked, path.join(instance, 'var/lib/baetyl/bin'));
  mkdirSync(path.join(instance, 'etc/fieldgate'), { recursive: true });
  const brokerPort = await freePort();
  writeFileSync(
    path.join(instance, 'etc/fieldgate/gateway.yaml'),
    `node: edge-1\ndataDir: ../../var/lib/fieldgate\nembeddedBroker:\n  host: 127.0.0.1\n  port: ${brokerPort}\napi:\n  host: 127.0.0.1\n  port: 0\ndrivers: []\n`,
  );
  const env = { ...process.env };
  delete env.FIELDGATE_CONF;
  const child = spawn(path.join(instance, 'var/lib/baetyl/bin/fieldgate.sh'), [], { cwd: instance, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no REST API line within 60 s; stderr:\n${stderr}`)), 60_000);
      const onData = () => {
        const m = /REST API:\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          child.stderr.off('data', onData);
          resolve(m[1]);
        }
      };
      child.stderr.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code} before serving; stderr:\n${stderr}`));
      });
    });
    const res = await fetch(`${url}/health`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; devices: number };
    assert.equal(body.devices, 0);
    assert.match(body.status, /^(ok|degraded)$/);
    assert.ok(existsSync(path.join(instance, 'var/lib/fieldgate')), 'dataDir resolved against the conf volume, inside the instance folder');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `exit status after SIGTERM; stderr:\n${stderr}`);
});

test('without arguments and without a configuration, the entry says where it looked and exits 2', () => {
  // A host that has /etc/fieldgate/gateway.yaml would run it; there the message cannot be shown.
  if (existsSync('/etc/fieldgate/gateway.yaml')) return;
  const empty = path.join(work, 'empty');
  mkdirSync(empty);
  const env = { ...process.env };
  delete env.FIELDGATE_CONF;
  const r = spawnSync(path.join(unpacked, 'fieldgate.sh'), [], { cwd: empty, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no configuration: .*\/etc\/fieldgate/);
});

test('a package for another CPU is refused, naming the binaries, and no zip is written', () => {
  const other = TARGETS.find((t) => t.id !== host?.id);
  assert.ok(other);
  const out = path.join(work, 'foreign');
  const r = packageCmd(['--arch', other.id, '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`refused +${other.id}`));
  assert.match(r.stderr, new RegExp(`better_sqlite3\\.node is built for ${machineName(host?.elfMachine ?? 0)}`));
  assert.match(r.stderr, /--deps-from/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing written');
});
