/**
 * `npm run package`: builds BIE process-mode program packages (进程程序包), one zip per
 * architecture, named `fieldgate-<version>-<arch>.zip` (Baetyl downloads the file whose name
 * contains the node's architecture). Each zip holds `program.yml` (`entry: "fieldgate.sh"`), the
 * executable entry script, fieldgate's sources and the production node_modules.
 *
 * Native binaries (better-sqlite3's addon, @serialport/bindings-cpp's prebuilds, esbuild's
 * executable) must match the target CPU: an architecture whose binaries are not at hand is
 * refused with the reason and the way to build it, never packaged with this machine's binaries.
 *
 * Usage: node --import tsx scripts/package.ts [--arch <id>]... [--out dist] [--deps-from <dir>]
 *        [--node <node binary>] [--level 0-9] [--without-node-modules]
 *   --arch       linux-amd64 | linux-arm64-v8 | linux-arm-v7 (repeatable; default: all three,
 *                building those this machine can and listing the others as refused)
 *   --deps-from  a folder whose node_modules was installed for the (single) --arch given
 *   --node       a Node.js binary for the target, shipped as node/bin/node (default: none; the
 *                host must have Node.js >= 20.10)
 * Exit status: 0 when every architecture asked for by --arch was built (without --arch: when at
 * least one was), 1 otherwise, 2 on bad options.
 */
import { readFileSync, renameSync, rmSync, mkdirSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { collect } from '../deploy/package/collect.ts';
import type { PackFile } from '../deploy/package/collect.ts';
import { machineName, readElfIdent } from '../deploy/package/elf.ts';
import { hostTarget, targetById, TARGETS } from '../deploy/package/targets.ts';
import type { Target } from '../deploy/package/targets.ts';
import { fileSink, ZipWriter } from '../deploy/package/zip.ts';

const root = path.resolve(import.meta.dirname, '..');
const NODE_RANGE = '>=20.10';

function usage(msg: string): never {
  process.stderr.write(`package: ${msg}\nusage: npm run package -- [--arch ${TARGETS.map((t) => t.id).join('|')}]... [--out dir] [--deps-from dir] [--node file] [--level 0-9]\n`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      arch: { type: 'string', multiple: true },
      out: { type: 'string', default: 'dist' },
      'deps-from': { type: 'string' },
      node: { type: 'string' },
      level: { type: 'string', default: '6' },
      'without-node-modules': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const o = parsed.values;
const level = Number(o.level);
if (!Number.isInteger(level) || level < 0 || level > 9) usage(`--level ${o.level}: expected 0 to 9`);
const asked = o.arch !== undefined;
const targets: Target[] = (o.arch ?? TARGETS.map((t) => t.id)).map((id) => targetById(id) ?? usage(`--arch ${id}: expected one of ${TARGETS.map((t) => t.id).join(', ')}`));
if ((o['deps-from'] !== undefined || o.node !== undefined) && targets.length !== 1) usage('--deps-from and --node belong to one architecture: give exactly one --arch');
const depsFrom = o['deps-from'] !== undefined ? path.resolve(o['deps-from']) : undefined;
if (depsFrom !== undefined && !existsSync(path.join(depsFrom, 'node_modules'))) usage(`--deps-from ${depsFrom}: no node_modules folder there`);
const outDir = path.resolve(o.out);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const mtime = process.env.SOURCE_DATE_EPOCH !== undefined ? new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000) : new Date();

/** Checks a Node binary given with --node: its CPU, and its version when this machine can run it. */
function checkNode(file: string, target: Target): { problems: string[]; version?: string } {
  if (!existsSync(file) || !statSync(file).isFile()) return { problems: [`--node ${file}: no such file`] };
  const id = readElfIdent(readFileSync(file).subarray(0, 20));
  if (id === undefined) return { problems: [`--node ${file}: not an ELF executable (give the bin/node of a Linux Node.js build)`] };
  if (id.machine !== target.elfMachine || id.bits !== target.elfBits) {
    return { problems: [`--node ${file} is built for ${machineName(id.machine)} (${id.bits}-bit), not ${machineName(target.elfMachine)} as ${target.id} needs`] };
  }
  if (hostTarget()?.id !== target.id) return { problems: [] }; // cannot run it here to ask its version
  const r = spawnSync(file, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
  const v = r.stdout.trim();
  const [maj = 0, min = 0] = v.split('.').map(Number);
  if (r.status !== 0 || maj < 20 || (maj === 20 && min < 10)) return { problems: [`--node ${file} is Node.js ${v || '(did not run)'}; fieldgate needs ${NODE_RANGE}`] };
  return { problems: [], version: v };
}

function build(target: Target): { file?: string; problems: string[]; hint?: string; count?: number } {
  const sel = collect(target, { root, ...(depsFrom !== undefined ? { depsFrom } : {}), withoutNodeModules: o['without-node-modules'] });
  const problems = [...sel.problems];
  let nodeVersion: string | undefined;
  if (o.node !== undefined) {
    const n = checkNode(path.resolve(o.node), target);
    problems.push(...n.problems);
    nodeVersion = n.version;
  }
  if (problems.length > 0) return { problems, ...(sel.hint !== undefined ? { hint: sel.hint } : {}) };

  const extra: { name: string; data: Uint8Array; mode: number }[] = [
    { name: 'program.yml', data: readFileSync(path.join(root, 'deploy/bie/program.yml')), mode: 0o644 },
    { name: 'fieldgate.sh', data: readFileSync(path.join(root, 'deploy/bie/fieldgate.sh')), mode: 0o755 },
  ];
  const info = {
    name: pkg.name,
    version: pkg.version,
    arch: target.id,
    entry: 'fieldgate.sh',
    node: o.node !== undefined ? { bundled: 'node/bin/node', version: nodeVersion ?? 'not run on the build machine' } : { bundled: false, required: NODE_RANGE },
    nodeModules: !o['without-node-modules'],
    natives: sel.natives,
    builtOn: { platform: process.platform, arch: process.arch, node: process.versions.node },
    created: mtime.toISOString(),
  };
  extra.push({ name: 'BUILD-INFO.json', data: Buffer.from(`${JSON.stringify(info, null, 2)}\n`), mode: 0o644 });
  const files: PackFile[] = [...sel.files];
  if (o.node !== undefined) files.push({ source: path.resolve(o.node), name: 'node/bin/node', mode: 0o755, mtime });

  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${pkg.name}-${pkg.version}-${target.id}.zip`);
  const tmp = `${file}.partial`;
  const sink = fileSink(tmp);
  try {
    const zip = new ZipWriter(sink);
    const dirs = new Set<string>();
    const addDirs = (name: string) => {
      const parts = name.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const d = parts.slice(0, i).join('/');
        if (!dirs.has(d)) {
          dirs.add(d);
          zip.addDirectory(d, { mtime });
        }
      }
    };
    for (const e of extra) zip.addFile(e.name, e.data, { mode: e.mode, mtime, level });
    for (const f of files) {
      addDirs(f.name);
      zip.addFile(f.name, readFileSync(f.source), { mode: f.mode, mtime: f.mtime, level });
    }
    zip.finish();
    sink.close();
    renameSync(tmp, file);
    return { file, problems: [], count: zip.count };
  } catch (e) {
    sink.close();
    rmSync(tmp, { force: true });
    throw e;
  }
}

let built = 0;
let refused = 0;
for (const t of targets) {
  const r = build(t);
  if (r.file !== undefined) {
    built++;
    const mb = (statSync(r.file).size / 1e6).toFixed(1);
    process.stdout.write(`built    ${path.relative(process.cwd(), r.file) || r.file} (${mb} MB, ${r.count} entries)\n`);
  } else {
    refused++;
    process.stderr.write(`refused  ${t.id}: ${r.problems.length} problem(s)\n${r.problems.map((p) => `  - ${p}\n`).join('')}${r.hint !== undefined ? `  ${r.hint}\n` : ''}`);
  }
}
process.exitCode = refused === 0 || (!asked && built > 0) ? 0 : 1;
