/**
 * The deployment files, checked without the engines that would run them (there is no Docker
 * daemon, no cluster and no systemd here): every Kubernetes manifest parses and is internally
 * consistent, the configuration the pods would see passes fieldgate's own loader, the Dockerfile
 * has its stages, user, volume and health check and copies only files that exist, and the systemd
 * unit has its keys. Each check is also run on a broken copy, to show that it can fail.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createRegistry } from '../../src/gateway/drivers/registry.ts';
import { checkDockerfile, dockerignoreMatcher, parseDockerfile } from './checks/dockerfile.ts';
import { checkManifests, projectedFiles } from './checks/k8s.ts';
import type { Manifest } from './checks/k8s.ts';
import { checkUnit, iniGet, parseIni } from './checks/unit.ts';

const root = path.resolve(import.meta.dirname, '../..');
const deploy = path.join(root, 'deploy');

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

function parseDocs(file: string, text = readFileSync(file, 'utf8')): Manifest[] {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const out: Manifest[] = [];
  for (const d of list) {
    if (d.errors.length > 0) throw new Error(`${path.relative(root, file)}: ${d.errors.map((e) => e.message).join('; ')}`);
    const js: unknown = d.toJS();
    if (js !== null && js !== undefined) out.push({ file: path.relative(root, file), doc: js });
  }
  return out;
}

/** The manifests a kustomization folder stands for (its resources, bases followed), and missing ones. */
function kustomize(dir: string): { manifests: Manifest[]; problems: string[] } {
  const k = parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources?: string[]; kind?: string };
  const problems: string[] = [];
  if (k.kind !== 'Kustomization') problems.push(`${dir}: kind must be Kustomization`);
  const manifests: Manifest[] = [];
  for (const r of k.resources ?? []) {
    const p = path.join(dir, r);
    if (!existsSync(p)) problems.push(`${path.relative(root, dir)}/kustomization.yaml: resource ${r} does not exist`);
    else if (statSync(p).isDirectory()) {
      const sub = kustomize(p);
      manifests.push(...sub.manifests);
      problems.push(...sub.problems);
    } else manifests.push(...parseDocs(p));
  }
  return { manifests, problems };
}

const clone = <T>(v: T): T => structuredClone(v);
/** Parsed YAML, loosely typed: the mutations below poke into it. */
type Obj = Record<string, any>;

function find(ms: Manifest[], kind: string): Obj {
  const m = ms.find((x) => (x.doc as Obj).kind === kind);
  assert.ok(m, `a ${kind} among the manifests`);
  return m.doc as Obj;
}

/** Runs `mutate` on a copy of the kustomization's manifests and returns the problems found. */
function broken(ms: Manifest[], mutate: (docs: Obj[]) => void): string[] {
  const copy = ms.map((m) => ({ file: m.file, doc: clone(m.doc) }));
  mutate(copy.map((m) => m.doc as Obj));
  return checkManifests(copy);
}

const KUSTOMIZATIONS = ['deploy/k8s/base', 'deploy/k8s/daemonset', 'deploy/k8s/deployment'];

test('every YAML file under deploy/ parses (all documents), and a broken one does not', () => {
  const files = yamlFiles(deploy);
  assert.ok(files.length >= 10, `YAML files found: ${files.length}`);
  for (const f of files) assert.ok(parseDocs(f).length >= 1, `${path.relative(root, f)} has a document`);
  assert.throws(() => parseDocs(path.join(deploy, 'k8s/deployment/pvc.yaml'), 'kind: PersistentVolumeClaim\nspec:\n  accessModes: [ReadWriteOnce\n'), /pvc\.yaml/);
});

test('each kustomization lists existing resources and its manifests pass every check', () => {
  for (const k of KUSTOMIZATIONS) {
    const { manifests, problems } = kustomize(path.join(root, k));
    assert.deepEqual(problems, [], k);
    assert.ok(manifests.length >= 1, `${k} has manifests`);
    assert.deepEqual(checkManifests(manifests), [], k);
  }
  const ds = kustomize(path.join(root, 'deploy/k8s/daemonset')).manifests;
  const spec = find(ds, 'DaemonSet').spec;
  assert.deepEqual(spec.template.spec.nodeSelector, { 'fieldgate.io/gateway': 'true' }, 'the DaemonSet runs on labelled nodes only');
  assert.equal(spec.template.spec.volumes.find((v: Obj) => v.name === 'data').hostPath.path, '/var/lib/fieldgate', 'data on a hostPath');
  const dep = kustomize(path.join(root, 'deploy/k8s/deployment')).manifests;
  const d = find(dep, 'Deployment');
  assert.equal(d.spec.replicas, 1, 'one gateway per device set');
  assert.equal(d.spec.strategy.type, 'Recreate', 'old and new pods never poll (or open the SQLite store) together');
  assert.ok(d.spec.template.spec.volumes.some((v: Obj) => v.persistentVolumeClaim?.claimName === find(dep, 'PersistentVolumeClaim').metadata.name), 'data on the PVC');
});

test('the manifest checks catch broken copies (selector, probes, mounts, security, command, references)', () => {
  const ds = kustomize(path.join(root, 'deploy/k8s/daemonset')).manifests;
  const dep = kustomize(path.join(root, 'deploy/k8s/deployment')).manifests;
  const ws = (docs: Obj[], kind: string) => docs.find((x) => x.kind === kind) as Obj;
  const gw = (docs: Obj[], kind: string) => ws(docs, kind).spec.template.spec.containers.find((c: Obj) => c.name === 'fieldgate') as Obj;
  const cases: [string, Manifest[], (docs: Obj[]) => void, RegExp][] = [
    ['selector no longer matches the pod labels', ds, (docs) => (ws(docs, 'DaemonSet').spec.selector.matchLabels['app.kubernetes.io/component'] = 'other'), /selector\.matchLabels .* does not match the template labels/],
    ['liveness probe on another path', ds, (docs) => (gw(docs, 'DaemonSet').livenessProbe.httpGet.path = '/healthz'), /livenessProbe must be an httpGet on \/health/],
    ['readiness probe on an undeclared port', dep, (docs) => (gw(docs, 'Deployment').readinessProbe.httpGet.port = 'api'), /readinessProbe port "api" is not a containerPort/],
    ['a mount without its volume', dep, (docs) => (gw(docs, 'Deployment').volumeMounts[0].name = 'confx'), /volumeMount "confx" has no volume/],
    ['a volume nobody mounts', dep, (docs) => ws(docs, 'Deployment').spec.template.spec.volumes.push({ name: 'spare', emptyDir: {} }), /volume "spare" is mounted by no container/],
    ['runAsNonRoot switched off', dep, (docs) => {
      gw(docs, 'Deployment').securityContext.runAsNonRoot = false;
    }, /runAsNonRoot must be true/],
    ['privilege escalation allowed', ds, (docs) => delete gw(docs, 'DaemonSet').securityContext.allowPrivilegeEscalation, /allowPrivilegeEscalation must be false/],
    ['the container runs something else', dep, (docs) => (gw(docs, 'Deployment').args = ['validate', '-c', '/etc/fieldgate']), /must run "bin\/fieldgate\.mjs run -c \/etc\/fieldgate"/],
    ['no image', ds, (docs) => delete gw(docs, 'DaemonSet').image, /image is missing/],
    ['the token written inline instead of from a Secret', dep, (docs) => (gw(docs, 'Deployment').env = [{ name: 'FIELDGATE_API_TOKEN', value: 'x'.repeat(20) }]), /FIELDGATE_API_TOKEN must come from a Secret/],
    ['a ConfigMap item whose key does not exist', ds, (docs) => (ws(docs, 'DaemonSet').spec.template.spec.volumes[0].projected.sources[0].configMap.items[0].key = 'edge-z.gateway.yaml'), /maps key "edge-z\.gateway\.yaml", which ConfigMap "fieldgate-node-conf" does not have/],
    ['a PVC that is not there', dep, (docs) => (ws(docs, 'PersistentVolumeClaim').metadata.name = 'renamed'), /uses PVC "fieldgate-line-1-data", which is not among the manifests/],
    ['a Service selecting nothing', dep, (docs) => (ws(docs, 'Service').spec.selector['app.kubernetes.io/instance'] = 'line-2'), /selects no workload's pods/],
    ['an object without a name', dep, (docs) => delete ws(docs, 'ConfigMap').metadata.name, /metadata\.name is missing/],
    ['an object without apiVersion', ds, (docs) => delete ws(docs, 'Namespace').apiVersion, /apiVersion is missing/],
  ];
  for (const [what, ms, mutate, want] of cases) {
    const problems = broken(ms, mutate);
    assert.ok(problems.some((p) => want.test(p)), `${what}: expected ${want}, got ${JSON.stringify(problems)}`);
  }
});

test('the configuration the pods see passes fieldgate validate; each device is in exactly one gateway', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'fieldgate-k8s-conf-'));
  const saved = process.env.FIELDGATE_API_TOKEN;
  // api.host is 0.0.0.0 in a pod; the token comes from the Secret through this variable.
  process.env.FIELDGATE_API_TOKEN = 'k8s-test-token-0123456789';
  try {
    const materialize = (ms: Manifest[], kind: string, dir: string) => {
      const w = find(ms, kind);
      const vol = w.spec.template.spec.volumes.find((v: Obj) => v.name === 'conf');
      for (const [file, ref] of projectedFiles(vol)) {
        const cm = ms.map((m) => m.doc as Obj).find((x) => x.kind === 'ConfigMap' && x.metadata.name === ref.configMap);
        assert.ok(cm, ref.configMap);
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), cm.data[ref.key]);
      }
    };
    const ds = kustomize(path.join(root, 'deploy/k8s/daemonset')).manifests;
    materialize(ds, 'DaemonSet', path.join(tmp, 'ds'));
    const nodes = readdirSync(path.join(tmp, 'ds')).sort();
    assert.deepEqual(nodes, ['edge-a', 'edge-b']);
    const devices = new Map<string, string>();
    const clientIds = new Set<string>();
    for (const n of nodes) {
      const r = await loadConfig(path.join(tmp, 'ds', n), createRegistry());
      assert.ok(r.ok, `${n}: ${JSON.stringify(!r.ok && r.issues)}`);
      assert.equal(r.config.node, n, 'gateway.yaml node = the Kubernetes node name, so node names stay distinct');
      assert.equal(r.config.api.host, '0.0.0.0');
      assert.equal(r.config.dataDir, '/data');
      assert.equal(r.config.broker?.ca, '/var/lib/baetyl/system/certs/ca.pem', 'mutual TLS with the certs where Baetyl puts them');
      const cid = r.config.broker?.clientId ?? '';
      assert.ok(cid !== '' && !clientIds.has(cid), `client id ${cid} unique per gateway`);
      clientIds.add(cid);
      for (const inst of r.instances) {
        for (const dev of inst.devices) {
          assert.ok(!devices.has(dev.name), `device ${dev.name} in ${n} and in ${devices.get(dev.name)}`);
          devices.set(dev.name, n);
        }
      }
    }
    assert.equal(devices.size, 2);
    const dep = kustomize(path.join(root, 'deploy/k8s/deployment')).manifests;
    materialize(dep, 'Deployment', path.join(tmp, 'dep'));
    const r = await loadConfig(path.join(tmp, 'dep'), createRegistry());
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
    assert.equal(r.instances.reduce((k, i) => k + i.devices.length, 0), 2);
    // A broken copy: a key the schema does not know is refused.
    writeFileSync(path.join(tmp, 'dep/gateway.yaml'), `${readFileSync(path.join(tmp, 'dep/gateway.yaml'), 'utf8')}dataDri: /data\n`);
    assert.equal((await loadConfig(path.join(tmp, 'dep'), createRegistry())).ok, false);
  } finally {
    if (saved === undefined) delete process.env.FIELDGATE_API_TOKEN;
    else process.env.FIELDGATE_API_TOKEN = saved;
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('Dockerfile: build and runtime stages, non-root USER, VOLUME /data, HEALTHCHECK, COPY sources that exist', () => {
  const text = readFileSync(path.join(deploy, 'docker/Dockerfile'), 'utf8');
  const ignoreText = readFileSync(path.join(deploy, 'docker/Dockerfile.dockerignore'), 'utf8');
  const ignored = dockerignoreMatcher(ignoreText);
  const ins = parseDockerfile(text);
  assert.deepEqual(checkDockerfile(ins, root, ignored), []);
  assert.ok(ins.some((x) => x.op === 'HEALTHCHECK' && x.args.includes('--interval=30s')), 'continuation lines joined');
  // The ignore file keeps node_modules (possibly another CPU's) and local data out of the context.
  assert.equal(ignored('node_modules/better-sqlite3/package.json'), true);
  assert.equal(ignored('simulators/node_modules/x'), true);
  assert.equal(ignored('conf/data/fieldgate.db'), true);
  assert.equal(ignored('src/gateway/cli/main.ts'), false);

  const cases: [string, string, RegExp][] = [
    ['USER removed', text.replace(/^USER .*$/m, ''), /has no USER/],
    ['USER root', text.replace(/^USER .*$/m, 'USER root'), /USER root is root/],
    ['no VOLUME', text.replace(/^VOLUME .*$/m, ''), /VOLUME \/data/],
    ['no HEALTHCHECK', text.replace(/^HEALTHCHECK [\s\S]*?\n(?=\S)/m, ''), /HEALTHCHECK on \/health/],
    ['a COPY of a file that does not exist', text.replace('COPY console ./console', 'COPY frontend ./frontend'), /COPY source "frontend" does not exist/],
    ['a COPY of an ignored folder', text.replace('COPY console ./console', 'COPY test ./test'), /COPY source "test" is excluded by the \.dockerignore/],
    ['one stage only', text.replace(/^FROM \$\{NODE_IMAGE\} AS build$/m, 'RUN true'), /at least two FROM|no stage named "build"/],
    ['a runtime on another base', text.replace('FROM node:20-bookworm-slim AS runtime', 'FROM node:20 AS runtime'), /must be FROM node:20-bookworm-slim/],
    ['another command', text.replace('CMD ["run", "-c", "/etc/fieldgate"]', 'CMD ["demo"]'), /ENTRYPOINT\/CMD must run/],
  ];
  for (const [what, t, want] of cases) {
    const problems = checkDockerfile(parseDockerfile(t), root, ignored);
    assert.ok(problems.some((p) => want.test(p)), `${what}: expected ${want}, got ${JSON.stringify(problems)}`);
  }
});

test('systemd unit: non-root User, ExecStart, Restart=on-failure, ExecReload with SIGHUP, hardening', () => {
  const text = readFileSync(path.join(deploy, 'systemd/fieldgate.service'), 'utf8');
  const ini = parseIni(text);
  assert.deepEqual(checkUnit(ini), []);
  assert.equal(iniGet(ini, 'Service', 'ExecStart'), '/usr/bin/node /opt/fieldgate/bin/fieldgate.mjs run -c /etc/fieldgate');
  assert.equal(iniGet(ini, 'Service', 'RestartPreventExitStatus'), '2', 'an invalid configuration (exit 2) is not restarted in a loop');
  assert.equal(iniGet(ini, 'Service', 'StateDirectory'), 'fieldgate');

  const cases: [string, string, RegExp][] = [
    ['Restart=always', text.replace('Restart=on-failure', 'Restart=always'), /Restart must be on-failure/],
    ['no ExecReload', text.replace(/^ExecReload=.*$/m, ''), /ExecReload must send SIGHUP/],
    ['User=root', text.replace('User=fieldgate', 'User=root'), /non-root user/],
    ['MemoryDenyWriteExecute on (at the end of [Service])', text.replace('\n[Install]', 'MemoryDenyWriteExecute=yes\n\n[Install]'), /MemoryDenyWriteExecute=yes breaks Node/],
    ['NoNewPrivileges dropped', text.replace('NoNewPrivileges=yes', ''), /NoNewPrivileges=yes is missing/],
    ['a relative ExecStart', text.replace('ExecStart=/usr/bin/node', 'ExecStart=node'), /ExecStart must be an absolute command/],
    ['no [Install]', text.replace(/\[Install\][\s\S]*$/, ''), /section \[Install\] is missing/],
  ];
  for (const [what, t, want] of cases) {
    const problems = checkUnit(parseIni(t));
    assert.ok(problems.some((p) => want.test(p)), `${what}: expected ${want}, got ${JSON.stringify(problems)}`);
  }
  assert.throws(() => parseIni('User=fieldgate\n'), /neither a \[Section\]/);
});

test('BIE program package sources: program.yml names fieldgate.sh, which is an executable POSIX sh script', () => {
  const program = parse(readFileSync(path.join(deploy, 'bie/program.yml'), 'utf8')) as { entry?: unknown };
  assert.equal(program.entry, 'fieldgate.sh');
  const script = path.join(deploy, 'bie/fieldgate.sh');
  assert.equal(statSync(script).mode & 0o111, 0o111, 'executable in the repository too');
  const syntax = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  assert.match(readFileSync(script, 'utf8'), /exec "\$node_bin" "\$here\/bin\/fieldgate\.mjs" "\$@"/);
});
