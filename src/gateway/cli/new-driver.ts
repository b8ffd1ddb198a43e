/**
 * `fieldgate new-driver NAME [-d DIR]`: writes a driver plugin package (descriptor, address
 * schema, codec, session, simulator stub, conformance and codec tests) that passes its tests as
 * created. Refuses to write into a folder that has files.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { templates } from '../plugins/scaffold/templates.ts';

/** This fieldgate checkout (where `fieldgate/sdk` lives), for the new package's `file:` dependency. */
const FIELDGATE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface NewDriverOptions {
  /** devDependencies.fieldgate of the new package; default `file:<this checkout>`. */
  readonly fieldgate?: string;
  /** Where messages go (default stderr). */
  readonly out?: (line: string) => void;
}

/** Creates the package in `dir`; returns the exit code (0 ok, 2 bad name or folder not empty). */
export async function newDriverCommand(name: string, dir: string, options: NewDriverOptions = {}): Promise<number> {
  const out = options.out ?? ((l: string) => void process.stderr.write(`${l}\n`));
  if (!/^[a-z][a-z0-9-]{0,39}$/.test(name)) {
    out(`"${name}" is not a usable driver id: lower-case letters, digits and "-", starting with a letter (it becomes the key under visitor: and accessConfig:)`);
    return 2;
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    out(`${dir} is not empty; give a new or empty folder with -d`);
    return 2;
  }
  const Name = name
    .split('-')
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('');
  const files = templates({ id: name, pkg: `fieldgate-driver-${name}`, Name, fieldgate: options.fieldgate ?? `file:${FIELDGATE_ROOT}` });
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  out(`created ${Object.keys(files).length} files in ${dir}\nnext: cd ${dir} && npm install && npm test`);
  return 0;
}
