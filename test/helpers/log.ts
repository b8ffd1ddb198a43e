/** A logger that keeps lines in memory, for tests that check what was logged. */
import type { Logger } from '../../src/drivers/sdk/index.ts';

export interface Line {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

export function memoryLogger(lines: Line[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: Line[] } {
  const at = (level: string) => (obj: object | string, msg?: string) => {
    lines.push({ level, obj: typeof obj === 'string' ? { ...bindings } : { ...bindings, ...obj }, msg: typeof obj === 'string' ? obj : msg });
  };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => memoryLogger(lines, { ...bindings, ...b }),
  };
}
