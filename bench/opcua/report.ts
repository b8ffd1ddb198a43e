/**
 * Writes the OPC UA benchmark's section (`## OPC UA`) into docs/performance.md: replaces the
 * text from that heading to the next `## ` heading (or the end), appends the section when the
 * page has none, and leaves every other section as it is.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const HEADING = '## OPC UA';

/** `doc` with its `## OPC UA` section replaced by (or appended as) `section`. Pure. */
export function replaceOpcuaSection(doc: string, section: string): string {
  const body = `${section.trimEnd()}\n`;
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => l.trim() === HEADING);
  if (start < 0) return `${doc.trimEnd()}${doc.trim() === '' ? '' : '\n\n'}${body}`;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    if (/^#{1,2}\s/.test(lines[i]!)) {
      end = i;
      break;
    }
  }
  const after = lines.slice(end).join('\n');
  return `${lines.slice(0, start).join('\n')}${start > 0 ? '\n' : ''}${body}${after.length > 0 ? `\n${after}` : ''}`;
}

/** Updates (or creates) `file` with the section. */
export function writeOpcuaSection(file: string, section: string): void {
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Performance\n\nFigures measured by the benchmarks in `bench/`.\n';
  writeFileSync(file, replaceOpcuaSection(doc, section));
}
