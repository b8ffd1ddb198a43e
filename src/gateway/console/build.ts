/**
 * Builds the console's front end (console/src/main.ts → one ES module) with esbuild's JS API.
 * esbuild is always installed where fieldgate runs, because tsx (which runs our TypeScript) is
 * built on it, so the gateway builds the bundle in memory on the first request and no separate
 * build step or committed bundle is needed. scripts/build-console.ts writes the same files to disk.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The folder with index.html, styles.css, favicon.svg and src/. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

/** One served file. */
export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
  /** A strong validator (content hash) for If-None-Match. */
  readonly etag: string;
}

/** The files the console consists of, by URL path. */
export type AssetTable = ReadonlyMap<string, Asset>;

async function hash(body: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/** Bundles console/src/main.ts; rejects with esbuild's messages when the source does not compile. */
export async function bundleConsole(opts: { minify?: boolean } = {}): Promise<Uint8Array> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [path.join(CONSOLE_DIR, 'src', 'main.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    minify: opts.minify ?? true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const out = r.outputFiles[0];
  if (out === undefined) throw new Error('esbuild produced no output for the console');
  return out.contents;
}

/** Reads the static files and builds the script: everything the console serves. */
export async function buildAssets(opts: { minify?: boolean } = {}): Promise<AssetTable> {
  const files: [string, string, string][] = [
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/console/styles.css', 'styles.css', 'text/css; charset=utf-8'],
    ['/console/favicon.svg', 'favicon.svg', 'image/svg+xml'],
  ];
  const table = new Map<string, Asset>();
  for (const [url, file, type] of files) {
    const body = new Uint8Array(await readFile(path.join(CONSOLE_DIR, file)));
    table.set(url, { body, type, etag: await hash(body) });
  }
  const js = await bundleConsole(opts);
  table.set('/console/app.js', { body: js, type: 'text/javascript; charset=utf-8', etag: await hash(js) });
  return table;
}
