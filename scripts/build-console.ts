/**
 * Writes the web console to a folder (default console/dist/): index.html, styles.css,
 * favicon.svg and the bundled app.js, exactly what the gateway serves from memory. The gateway
 * does not need this (it builds on the first request); use it to check that the front end
 * compiles, or to host the files elsewhere.
 *   node --import tsx scripts/build-console.ts [out-dir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildAssets } from '../src/gateway/console/build.ts';

const out = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', 'console', 'dist'));
const assets = await buildAssets();
mkdirSync(path.join(out, 'console'), { recursive: true });
for (const [url, a] of assets) {
  const file = path.join(out, url === '/' ? 'index.html' : url.slice(1));
  writeFileSync(file, a.body);
  console.log(`${path.relative(process.cwd(), file)}  ${a.body.length} bytes`);
}
