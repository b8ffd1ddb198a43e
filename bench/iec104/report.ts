/**
 * Writes the benchmark's section into docs/performance.md: replaces the text from its heading to
 * the next heading of the same level (or the end), appends it when the file has none, and leaves
 * every other section alone. Pure string work plus one read and one write.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `section` must start with `heading` (e.g. `## IEC 60870-5-104`). */
export function replaceSection(doc: string, heading: string, section: string): string {
  const level = /^#+/.exec(heading)![0];
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  const body = section.trimEnd().split('\n');
  if (start < 0) return `${doc.trimEnd()}${doc.trim() === '' ? '' : '\n\n'}${body.join('\n')}\n`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^#+(?=\s)/.exec(lines[i]!);
    if (m !== null && m[0].length <= level.length) {
      end = i;
      break;
    }
  }
  const after = lines.slice(end);
  return [...lines.slice(0, start), ...body, ...(after.length > 0 ? ['', ...after] : [''])].join('\n');
}

/** Updates (or creates) `file` with the section. */
export function writeSection(file: string, heading: string, section: string): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n\nFigures from the benchmarks in bench/ (`npm run bench:<name>`).\n';
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, replaceSection(doc, heading, section));
}
