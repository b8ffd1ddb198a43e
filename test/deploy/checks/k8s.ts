/**
 * Structural checks of Kubernetes manifests, as pure functions returning the problems found
 * (empty = fine), so that a test can run them on the real files and on broken copies. They stand
 * in for `kubectl apply`, which cannot run here.
 */
import { GATEWAY_RUN, GATEWAY_SCRIPT } from './command.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** One parsed YAML document and where it came from. */
export interface Manifest {
  readonly file: string;
  readonly doc: unknown;
}

const WORKLOADS = new Set(['Deployment', 'DaemonSet', 'StatefulSet']);


function labelsMatch(selector: Obj, labels: Obj): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

/** apiVersion, kind and metadata.name of any Kubernetes object. */
function checkObjectHeader(m: Manifest): string[] {
  const d = obj(m.doc);
  const out: string[] = [];
  const where = `${m.file} (${str(d.kind) ?? '?'} ${str(obj(d.metadata).name) ?? '?'})`;
  if (str(d.apiVersion) === undefined || str(d.apiVersion) === '') out.push(`${where}: apiVersion is missing`);
  if (str(d.kind) === undefined || str(d.kind) === '') out.push(`${where}: kind is missing`);
  const name = str(obj(d.metadata).name);
  if (name === undefined || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) out.push(`${where}: metadata.name is missing or not a DNS name`);
  return out;
}

function checkProbe(where: string, c: Obj, probe: string, ports: Set<string | number>): string[] {
  const p = obj(c[probe]);
  const http = obj(p.httpGet);
  if (str(http.path) !== '/health') return [`${where}: ${probe} must be an httpGet on /health (got ${JSON.stringify(http.path ?? p)})`];
  const port = http.port;
  if (!(typeof port === 'string' || typeof port === 'number') || !ports.has(port)) return [`${where}: ${probe} port ${JSON.stringify(port)} is not a containerPort of the container`];
  return [];
}

/** A Deployment/DaemonSet running fieldgate: selector, command, probes, mounts, security. */
function checkWorkload(m: Manifest, configMaps: Map<string, Obj>, claims: Set<string>): string[] {
  const d = obj(m.doc);
  const where = `${m.file} (${str(d.kind)} ${str(obj(d.metadata).name)})`;
  const out: string[] = [];
  if (d.apiVersion !== 'apps/v1') out.push(`${where}: apiVersion must be apps/v1`);
  const spec = obj(d.spec);
  const tpl = obj(spec.template);
  const labels = obj(obj(tpl.metadata).labels);
  const selector = obj(obj(spec.selector).matchLabels);
  if (!labelsMatch(selector, labels)) out.push(`${where}: spec.selector.matchLabels ${JSON.stringify(selector)} does not match the template labels ${JSON.stringify(labels)}`);
  const pod = obj(tpl.spec);
  const podSec = obj(pod.securityContext);
  const volumes = new Map(arr(pod.volumes).map((v) => [str(obj(v).name) ?? '', obj(v)] as const));
  const mounted = new Set<string>();
  const containers = arr(pod.containers).map(obj);
  const gateways = containers.filter((c) => [...arr(c.command), ...arr(c.args)].some((a) => typeof a === 'string' && a.includes(GATEWAY_SCRIPT)));
  if (gateways.length !== 1) out.push(`${where}: exactly one container must run ${GATEWAY_SCRIPT} (found ${gateways.length})`);
  for (const c of [...arr(pod.initContainers).map(obj), ...containers]) {
    const cw = `${where} container ${str(c.name)}`;
    if (str(c.image) === undefined || str(c.image) === '') out.push(`${cw}: image is missing`);
    for (const vm of arr(c.volumeMounts).map(obj)) {
      const n = str(vm.name) ?? '';
      mounted.add(n);
      if (!volumes.has(n)) out.push(`${cw}: volumeMount "${n}" has no volume of that name`);
      if (str(vm.mountPath)?.startsWith('/') !== true) out.push(`${cw}: volumeMount "${n}" needs an absolute mountPath`);
    }
  }
  for (const n of volumes.keys()) if (!mounted.has(n)) out.push(`${where}: volume "${n}" is mounted by no container`);
  for (const c of gateways) {
    const cw = `${where} container ${str(c.name)}`;
    const line = [...arr(c.command), ...arr(c.args)].join(' ');
    if (!GATEWAY_RUN.test(line)) out.push(`${cw}: command/args must run "${GATEWAY_SCRIPT} run -c /etc/fieldgate" (got "${line}")`);
    const ports = new Set<string | number>();
    for (const p of arr(c.ports).map(obj)) {
      if (typeof p.containerPort === 'number') ports.add(p.containerPort);
      if (typeof p.name === 'string') ports.add(p.name);
    }
    if (!ports.has(8088)) out.push(`${cw}: containerPort 8088 (the API) is not declared`);
    out.push(...checkProbe(cw, c, 'livenessProbe', ports), ...checkProbe(cw, c, 'readinessProbe', ports));
    const sec = obj(c.securityContext);
    const nonRoot = sec.runAsNonRoot ?? podSec.runAsNonRoot;
    if (nonRoot !== true) out.push(`${cw}: securityContext.runAsNonRoot must be true (container or pod)`);
    const uid = sec.runAsUser ?? podSec.runAsUser;
    if (uid === 0) out.push(`${cw}: runAsUser 0 is root`);
    if (sec.allowPrivilegeEscalation !== false) out.push(`${cw}: securityContext.allowPrivilegeEscalation must be false`);
    const mountPaths = new Map(arr(c.volumeMounts).map((vm) => [str(obj(vm).mountPath) ?? '', str(obj(vm).name) ?? ''] as const));
    if (!mountPaths.has('/etc/fieldgate')) out.push(`${cw}: nothing is mounted at /etc/fieldgate (the configuration)`);
    if (!mountPaths.has('/data')) out.push(`${cw}: nothing is mounted at /data (dataDir)`);
    const token = arr(c.env).map(obj).find((e) => e.name === 'FIELDGATE_API_TOKEN');
    if (str(obj(obj(token?.valueFrom).secretKeyRef).name) === undefined) out.push(`${cw}: FIELDGATE_API_TOKEN must come from a Secret (valueFrom.secretKeyRef)`);
  }
  // Volumes that refer to other objects of the same kustomization.
  for (const [name, v] of volumes) {
    const sources = [...(isObj(v.configMap) ? [v.configMap] : []), ...arr(obj(v.projected).sources).map((s) => obj(s).configMap).filter(isObj)];
    for (const cm of sources) {
      const cmName = str(cm.name) ?? '';
      const data = configMaps.get(cmName);
      if (data === undefined) {
        out.push(`${where}: volume "${name}" uses ConfigMap "${cmName}", which is not among the manifests`);
        continue;
      }
      for (const it of arr(cm.items).map(obj)) {
        if (!Object.hasOwn(data, str(it.key) ?? '')) out.push(`${where}: volume "${name}" maps key "${str(it.key)}", which ConfigMap "${cmName}" does not have`);
      }
    }
    const claim = str(obj(v.persistentVolumeClaim).claimName);
    if (claim !== undefined && !claims.has(claim)) out.push(`${where}: volume "${name}" uses PVC "${claim}", which is not among the manifests`);
  }
  return out;
}

/** Every check over the manifests of one kustomization (cross references included). */
export function checkManifests(ms: readonly Manifest[]): string[] {
  const out: string[] = [];
  const configMaps = new Map<string, Obj>();
  const claims = new Set<string>();
  const podLabels: Obj[] = [];
  for (const m of ms) {
    out.push(...checkObjectHeader(m));
    const d = obj(m.doc);
    if (d.kind === 'ConfigMap') configMaps.set(str(obj(d.metadata).name) ?? '', obj(d.data));
    if (d.kind === 'PersistentVolumeClaim') claims.add(str(obj(d.metadata).name) ?? '');
    if (WORKLOADS.has(str(d.kind) ?? '')) podLabels.push(obj(obj(obj(obj(d.spec).template).metadata).labels));
  }
  for (const m of ms) {
    const d = obj(m.doc);
    if (WORKLOADS.has(str(d.kind) ?? '')) out.push(...checkWorkload(m, configMaps, claims));
    if (d.kind === 'Service') {
      const sel = obj(obj(d.spec).selector);
      if (!podLabels.some((l) => labelsMatch(sel, l))) out.push(`${m.file} (Service ${str(obj(d.metadata).name)}): selector ${JSON.stringify(sel)} selects no workload's pods`);
    }
    if (d.kind === 'PersistentVolumeClaim' && arr(obj(d.spec).accessModes).length === 0) out.push(`${m.file}: PVC needs spec.accessModes`);
  }
  return out;
}

/** Files a configMap/projected volume puts where: path inside the mount → ConfigMap key. */
export function projectedFiles(volume: Obj): Map<string, { configMap: string; key: string }> {
  const out = new Map<string, { configMap: string; key: string }>();
  const sources = [...(isObj(volume.configMap) ? [volume.configMap] : []), ...arr(obj(volume.projected).sources).map((s) => obj(s).configMap).filter(isObj)];
  for (const cm of sources) for (const it of arr(cm.items).map(obj)) out.set(str(it.path) ?? '', { configMap: str(cm.name) ?? '', key: str(it.key) ?? '' });
  return out;
}
