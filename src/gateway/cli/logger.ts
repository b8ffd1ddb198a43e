/** The process logger: pino JSON lines on stdout; secrets are redacted by key name. */
import { pino } from 'pino';
import type { Logger } from '../../drivers/sdk/index.ts';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: undefined,
    redact: { paths: ['password', '*.password', 'key', '*.key', 'token', '*.token'], censor: '[redacted]' },
  }) as unknown as Logger;
}
