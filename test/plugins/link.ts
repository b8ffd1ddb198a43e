/**
 * Makes `fieldgate` importable from a plugin folder the way `npm install` of a `file:` dependency
 * does: node_modules/fieldgate → this repository (a symlink). No network, no npm.
 *
 * Until package.json exports `./sdk/testing`, the link is a small shim package whose `src` is a
 * symlink into this repository, so `fieldgate/sdk` and `fieldgate/sdk/testing` resolve to the
 * same files (one module instance) either way.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function repoExportsTesting(): boolean {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { exports?: Record<string, unknown> };
  return pkg.exports?.['./sdk/testing'] !== undefined;
}

/** Ensures `<dir>/node_modules/fieldgate` resolves to this repository. */
export function linkFieldgate(dir: string): void {
  const nm = path.join(dir, 'node_modules');
  const target = path.join(nm, 'fieldgate');
  mkdirSync(nm, { recursive: true });
  const direct = repoExportsTesting();
  if (existsSync(target) || isLink(target)) {
    const isDirectLink = isLink(target);
    if (isDirectLink === direct) return;
    rmSync(target, { recursive: true, force: true });
  }
  if (direct) {
    symlinkSync(path.relative(nm, REPO), target, 'dir');
    return;
  }
  mkdirSync(target);
  symlinkSync(path.join(REPO, 'src'), path.join(target, 'src'), 'dir');
  writeFileSync(
    path.join(target, 'package.json'),
    JSON.stringify({
      name: 'fieldgate',
      version: '0.1.0',
      type: 'module',
      exports: { './sdk': './src/drivers/sdk/index.ts', './sdk/testing': './src/drivers/sdk/testing/index.ts', './package.json': './package.json' },
    }),
  );
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
