/**
 * `program.yml` of a Baetyl driver folder: `entry: <command line>`, where `$PATH` stands for the
 * folder (baetyl-gateway-sdk `sdk/golang/client.go NewClient`: every `$PATH` is replaced, then the
 * line is split on white space into the program and its arguments, with no shell; e.g.
 * `entry: "java -jar $PATH/custom-java.jar"`).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { DriverError } from '../../drivers/sdk/index.ts';

/** The command that starts a driver. */
export interface ProgramEntry {
  /** The `entry` line after `$PATH` substitution. */
  readonly entry: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** Turns an entry line into a command, replacing `$PATH` by `dir`. */
export function entryCommand(entry: string, dir: string): ProgramEntry {
  const line = entry.split('$PATH').join(dir).trim();
  const fields = line.split(/\s+/).filter((f) => f.length > 0);
  const [command, ...args] = fields;
  if (command === undefined) throw new DriverError('Config', 'program.yml: entry is empty; write e.g. entry: "$PATH/my-driver"');
  return { entry: line, command, args };
}

/** Parses the text of program.yml found in `dir`. */
export function parseProgram(text: string, dir: string): ProgramEntry {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    throw new DriverError('Config', `${path.join(dir, 'program.yml')}: not YAML: ${(e as Error).message}`);
  }
  const entry = data !== null && typeof data === 'object' ? (data as Record<string, unknown>).entry : undefined;
  if (typeof entry !== 'string' || entry.trim() === '') {
    throw new DriverError('Config', `${path.join(dir, 'program.yml')}: needs entry: "<command>" (e.g. entry: "$PATH/my-driver"; $PATH is this folder)`);
  }
  return entryCommand(entry, dir);
}

/** Reads `<dir>/program.yml`. */
export async function loadProgram(dir: string): Promise<ProgramEntry> {
  let text: string;
  try {
    text = await readFile(path.join(dir, 'program.yml'), 'utf8');
  } catch (e) {
    throw new DriverError('Config', `${path.join(dir, 'program.yml')} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): a Baetyl driver folder needs it with entry: "<command>"`);
  }
  return parseProgram(text, dir);
}
