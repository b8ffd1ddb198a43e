/**
 * Chooses what goes into a program package for one target: fieldgate's sources and the
 * production packages of package-lock.json, pruned of what only builds or types need, and checks
 * that every native binary among them (native addons, esbuild's executable) is built for the
 * target. A package whose binaries are for another CPU is refused, never shipped.
 */
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { ELF_IDENT_BYTES, machineName, readElfIdent } from './elf.ts';
import type { Target } from './targets.ts';

/** One file to put into the zip. */
export interface PackFile {
  /** Absolute path on disk. */
  readonly source: string;
  /** Path inside the zip (`/` separators). */
  readonly name: string;
  /** Unix permission bits. */
  readonly mode: number;
  readonly mtime: Date;
}

/** A native binary found in the selection. */
export interface NativeBinary {
  readonly name: string;
  readonly machine: string;
  readonly bits: 32 | 64;
}

/** The selection for one target; `problems` empty means it may be packaged. */
export interface Selection {
  readonly files: PackFile[];
  readonly natives: NativeBinary[];
  readonly problems: string[];
  /** When a problem is about native binaries: how to get binaries for the target. */
  readonly hint?: string;
}

/** Where to take things from. */
export interface CollectOptions {
  /** The repository root (package.json, package-lock.json, bin/, src/, ...). */
  readonly root: string;
  /** Folder holding the `node_modules` to ship (default: `root`). */
  readonly depsFrom?: string;
  /** Leave node_modules out (the package then cannot run; for quick layout checks). */
  readonly withoutNodeModules?: boolean;
}

/** fieldgate's own files, relative to the repository root: what `bin/fieldgate.mjs` loads at run time. */
export const SOURCE_ENTRIES = ['bin', 'src', 'simulators', 'console', 'conf', 'examples', 'package.json', 'package-lock.json', 'README.md', 'LICENSE'] as const;

/** Files that never ship: local state, editor and OS litter. */
function skipSourceFile(rel: string): boolean {
  const base = path.basename(rel);
  return /\.db(-wal|-shm)?$/.test(base) || base === '.DS_Store' || rel.split('/').includes('data') || rel.split('/').includes('node_modules');
}

/** Files a package needs only to compile or type-check, not to run. */
const TYPES_OR_MAPS = /\.(d\.ts|d\.mts|d\.cts|map)$/;
/** In packages with a binding.gyp: C/C++ sources, objects and build scripts (the compiled `.node` stays). */
const NATIVE_BUILD_INPUTS = /\.(c|cc|cpp|cxx|h|hh|hpp|o|a|gyp|gypi|mk)$|^Makefile$/;

interface LockPackage {
  readonly dev?: boolean;
  readonly optional?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly link?: boolean;
}

/** npm's `os`/`cpu` test: a list of allowed names, or of `!name` exclusions. */
export function platformAllows(list: readonly string[] | undefined, value: string): boolean {
  if (list === undefined || list.length === 0) return true;
  const deny = list.filter((v) => v.startsWith('!')).map((v) => v.slice(1));
  const allow = list.filter((v) => !v.startsWith('!'));
  if (deny.includes(value)) return false;
  return allow.length === 0 || allow.includes(value);
}

/** node-gyp-build's prebuild folder names: `<platform>-<arch>[+<arch>...]`. */
export function prebuildFolderMatches(folder: string, target: Target): boolean {
  const dash = folder.indexOf('-');
  if (dash < 0) return false;
  return folder.slice(0, dash) === 'linux' && folder.slice(dash + 1).split('+').includes(target.nodeArch);
}

function walk(dir: string, rel: string, out: { abs: string; rel: string }[], skipDir: (relDir: string) => boolean): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const abs = path.join(dir, e.name);
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (!skipDir(r)) walk(abs, r, out, skipDir);
    } else if (e.isFile()) {
      out.push({ abs, rel: r });
    }
    // Symbolic links are left out: a zip cannot carry them portably, and the production tree has none but node_modules/.bin.
  }
}

function readHead(file: string): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(ELF_IDENT_BYTES);
    const n = readSync(fd, b, 0, b.length, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function packFile(abs: string, name: string): PackFile {
  const st = lstatSync(abs);
  return { source: abs, name, mode: st.mode & 0o777, mtime: st.mtime };
}

/** The production packages of the lock file as [folder relative to the deps root, entry]. */
function lockPackages(root: string): [string, LockPackage][] {
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion?: number; packages?: Record<string, LockPackage> };
  if (lock.packages === undefined) throw new Error('package-lock.json has no "packages" map (lockfileVersion 2 or 3 is needed; run npm install with npm 7 or later)');
  return Object.entries(lock.packages).filter(([k, v]) => k.startsWith('node_modules/') && v.dev !== true && v.link !== true);
}

/** Selects and checks the files of the package for `target`. */
export function collect(target: Target, opts: CollectOptions): Selection {
  const files: PackFile[] = [];
  const natives: NativeBinary[] = [];
  const problems: string[] = [];

  for (const entry of SOURCE_ENTRIES) {
    const abs = path.join(opts.root, entry);
    if (!existsSync(abs)) {
      if (entry !== 'LICENSE' && entry !== 'README.md') problems.push(`${entry} is missing from ${opts.root}`);
      continue;
    }
    if (lstatSync(abs).isDirectory()) {
      const found: { abs: string; rel: string }[] = [];
      walk(abs, entry, found, (r) => skipSourceFile(r));
      for (const f of found) if (!skipSourceFile(f.rel)) files.push(packFile(f.abs, f.rel));
    } else {
      files.push(packFile(abs, entry));
    }
  }
  if (opts.withoutNodeModules === true) return { files, natives, problems };

  const depsRoot = opts.depsFrom ?? opts.root;
  const buildHint = `to build it, run npm ci and then npm run package -- --arch ${target.id} on a ${target.id} machine, or pass --deps-from <dir> with a node_modules installed for ${target.id} (docs/deploy.md, "Other architectures")`;
  const nativePackages: string[] = [];
  let nativeMissing = false;
  for (const [key, pkg] of lockPackages(opts.root)) {
    // Packages for another OS or CPU (esbuild's per-platform binaries, fsevents) stay out.
    if (!platformAllows(pkg.os, 'linux') || !platformAllows(pkg.cpu, target.nodeArch)) continue;
    const dir = path.join(depsRoot, key);
    if (!existsSync(path.join(dir, 'package.json'))) {
      if (pkg.os !== undefined || pkg.cpu !== undefined) {
        problems.push(`${key} (a per-platform binary package that ${target.id} needs) is not installed in ${depsRoot}`);
        nativeMissing = true;
      } else if (pkg.optional !== true) {
        problems.push(`${key} is in package-lock.json but not installed in ${depsRoot}; run npm ci there`);
      }
      continue;
    }
    const hasGyp = existsSync(path.join(dir, 'binding.gyp'));
    if (hasGyp) nativePackages.push(key);
    const found: { abs: string; rel: string }[] = [];
    walk(dir, '', found, (r) => {
      const parts = r.split('/');
      if (parts[0] === 'node_modules') return true; // nested packages are lock entries of their own
      if (parts[0] === 'prebuilds' && parts.length === 2) return !prebuildFolderMatches(parts[1] ?? '', target);
      // build/ keeps only build/Release (its .node files; the objects beside them are left out below).
      if (hasGyp && parts[0] === 'build') return parts.length > 2 || (parts.length === 2 && parts[1] !== 'Release');
      return false;
    });
    for (const f of found) {
      const base = path.basename(f.rel);
      if (TYPES_OR_MAPS.test(base)) continue;
      if (hasGyp && (NATIVE_BUILD_INPUTS.test(base) || f.rel.startsWith('build/'))) {
        if (!(f.rel.startsWith('build/Release/') && base.endsWith('.node'))) continue;
      }
      files.push(packFile(f.abs, `${key}/${f.rel}`));
    }
  }

  // Every ELF file must be for the target's CPU and word size.
  for (const f of files) {
    if (!f.name.startsWith('node_modules/')) continue;
    const id = readElfIdent(readHead(f.source));
    if (id === undefined) continue;
    natives.push({ name: f.name, machine: machineName(id.machine), bits: id.bits });
    if (id.machine !== target.elfMachine || id.bits !== target.elfBits) {
      problems.push(`${f.name} is built for ${machineName(id.machine)} (${id.bits}-bit), not ${machineName(target.elfMachine)} (${target.elfBits}-bit) as ${target.id} needs`);
      nativeMissing = true;
    }
  }
  // Every native addon must bring a binary for the target (compiled in build/Release or a prebuild).
  for (const key of nativePackages) {
    if (!natives.some((n) => n.name.startsWith(`${key}/`) && n.name.endsWith('.node'))) {
      problems.push(`${key} is a native addon but has no .node binary for ${target.id} (neither build/Release nor prebuilds/linux-${target.nodeArch})`);
      nativeMissing = true;
    }
  }
  return { files, natives, problems, ...(nativeMissing ? { hint: buildHint } : {}) };
}
