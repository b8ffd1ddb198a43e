/** The process logger: pino JSON lines on stdout; secrets are redacted by key name. */
import { pino } from 'pino';
import type { Logger } from '../../drivers/sdk/index.ts';

export interface ProcessLogger {
  readonly log: Logger;
  /** Run-time control of the level (REST API). */
  readonly level: { get(): string; set(level: string): void };
}

export function createProcessLogger(level: string): ProcessLogger {
  const p = pino({
    level,
    base: undefined,
    redact: { paths: ['password', '*.password', 'key', '*.key', 'token', '*.token'], censor: '[redacted]' },
  });
  return {
    log: p as unknown as Logger,
    level: {
      get: () => p.level,
      set: (l) => {
        p.level = l;
      },
    },
  };
}

/** The logger alone (for tools that do not change the level at run time). */
export function createLogger(level: string): Logger {
  return createProcessLogger(level).log;
}
