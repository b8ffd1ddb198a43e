/**
 * Finds a plugin's module file from a `plugins:` entry: an npm package name, looked up in
 * node_modules folders from the configuration's folder upward (as Node does), or a path to a file
 * or to a package folder. A package's entry is its `exports["."]` (conditions `import`, `node`,
 * `default`), else `main`, else index.js / index.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Why a plugin could not be found; the message says where it looked. */
export class PluginNotFound extends Error {
  override readonly name = 'PluginNotFound';
  readonly code = 'PluginNotFound';
}

/** The absolute file of the plugin's module. */
export function resolvePlugin(spec: { package?: string; path?: string }, baseDir: string): string {
  if (spec.path !== undefined) {
    const abs = path.resolve(baseDir, spec.path);
    if (!existsSync(abs)) throw new PluginNotFound(`plugin path ${abs} does not exist`);
    return statSync(abs).isDirectory() ? packageEntry(abs) : abs;
  }
  const name = spec.package ?? '';
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) throw new PluginNotFound(`${JSON.stringify(name)} is not an npm package name`);
  const looked: string[] = [];
  for (let dir = path.resolve(baseDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    looked.push(path.join(dir, 'node_modules'));
    if (existsSync(path.join(candidate, 'package.json'))) return packageEntry(candidate);
    if (path.dirname(dir) === dir) break;
  }
  throw new PluginNotFound(`package ${name} is not installed (looked in ${looked.slice(0, 3).join(', ')}${looked.length > 3 ? ', …' : ''}); run npm install ${name}, or give path: instead`);
}

function packageEntry(dir: string): string {
  const pj = path.join(dir, 'package.json');
  if (!existsSync(pj)) {
    for (const f of ['index.js', 'index.mjs', 'index.ts']) if (existsSync(path.join(dir, f))) return path.join(dir, f);
    throw new PluginNotFound(`${dir} has neither a package.json nor an index.js / index.ts`);
  }
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8')) as typeof pkg;
  } catch (e) {
    throw new PluginNotFound(`${pj} is not valid JSON: ${(e as Error).message}`);
  }
  const fromExports = exportTarget(pkg.exports);
  const rel = fromExports ?? (typeof pkg.main === 'string' ? pkg.main : undefined) ?? ['index.js', 'index.mjs', 'index.ts'].find((f) => existsSync(path.join(dir, f)));
  if (rel === undefined) throw new PluginNotFound(`${pj} names no entry: add "exports": "./index.js" (or "main")`);
  const file = path.resolve(dir, rel);
  if (!existsSync(file)) throw new PluginNotFound(`${pj} names ${rel} as its entry, but ${file} does not exist`);
  return file;
}

/** The `.` target of an `exports` field for an ESM importer. */
function exportTarget(exp: unknown): string | undefined {
  if (typeof exp === 'string') return exp;
  if (exp === null || typeof exp !== 'object') return undefined;
  const o = exp as Record<string, unknown>;
  if ('.' in o) return exportTarget(o['.']);
  for (const cond of ['import', 'node', 'default']) {
    const t = exportTarget(o[cond]);
    if (t !== undefined) return t;
  }
  return undefined;
}
