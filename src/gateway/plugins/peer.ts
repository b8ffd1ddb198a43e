/**
 * A plugin imports `fieldgate/sdk` and declares `fieldgate` as a peer dependency, which npm
 * installs next to it. A plugin folder named by `path:` may not have been installed at all (the
 * example in examples/driver-plugin on a fresh clone, a plugin under development): then the running
 * gateway is linked in as its `fieldgate`, as `npm install` of its `file:` dependency would, so the
 * plugin gets the same SDK the gateway checks it against.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This gateway's package folder (the one whose package.json exports `./sdk`). */
const GATEWAY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The nearest folder at or above `dir` holding a package.json, if any. */
function packageRoot(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json'))) return d;
    if (path.dirname(d) === d) return undefined;
  }
}

/** True when Node would find a `fieldgate` package from `dir`. */
function resolvable(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules', 'fieldgate', 'package.json'))) return true;
    if (path.dirname(d) === d) return false;
  }
}

/**
 * Links this gateway as `node_modules/fieldgate` of the package holding `file` when that package
 * depends on `fieldgate` (peer, regular or dev dependency) and cannot resolve it. Returns the link
 * made, or undefined when none was needed or it could not be made (the import then fails with its
 * own message).
 */
export function linkSdkPeer(file: string, gatewayRoot: string = GATEWAY_ROOT): string | undefined {
  const root = packageRoot(path.dirname(file));
  if (root === undefined || path.resolve(root) === path.resolve(gatewayRoot)) return undefined;
  let pkg: { name?: unknown; peerDependencies?: Record<string, unknown>; dependencies?: Record<string, unknown>; devDependencies?: Record<string, unknown> };
  try {
    pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as typeof pkg;
  } catch {
    return undefined;
  }
  const wants = [pkg.peerDependencies, pkg.dependencies, pkg.devDependencies].some((d) => d !== undefined && Object.hasOwn(d, 'fieldgate'));
  if (!wants || pkg.name === 'fieldgate' || resolvable(root)) return undefined;
  const nm = path.join(root, 'node_modules');
  const link = path.join(nm, 'fieldgate');
  try {
    mkdirSync(nm, { recursive: true });
    symlinkSync(path.relative(nm, gatewayRoot), link, 'dir');
    return link;
  } catch {
    return undefined;
  }
}
