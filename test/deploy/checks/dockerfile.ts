/**
 * Structural checks of the Dockerfile and its ignore file, as pure functions returning the
 * problems found (empty = fine). They stand in for `docker build`, which cannot run here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GATEWAY_RUN, GATEWAY_SCRIPT } from './command.ts';

/** One instruction of a Dockerfile with its continuation lines joined. */
export interface Instruction {
  readonly line: number;
  readonly op: string;
  readonly args: string;
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (buf === '' && /^\s*(#|$)/.test(line)) return;
    if (buf !== '' && /^\s*#/.test(line)) return; // comment lines inside a continuation
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(line)) {
      buf += `${line.replace(/\\\s*$/, '')} `;
      return;
    }
    buf += line;
    const m = /^\s*(\S+)\s*(.*)$/.exec(buf);
    if (m !== null) out.push({ line: start, op: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim() });
    buf = '';
  });
  return out;
}

/** A .dockerignore pattern as a test on a context-relative path (`**`, `*`, `?`; `!` re-includes). */
export function dockerignoreMatcher(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < p.length; i++) {
        const ch = p[i] ?? '';
        if (p.startsWith('**/', i)) {
          re += '(?:.*/)?';
          i += 2;
        } else if (p.startsWith('**', i)) {
          re += '.*';
          i += 1;
        } else if (ch === '*') re += '[^/]*';
        else if (ch === '?') re += '[^/]';
        else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      // A pattern matching a folder excludes everything below it.
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.negate;
    return ignored;
  };
}

/** Stages, non-root USER, VOLUME /data, EXPOSE, HEALTHCHECK, command line, and COPY sources. */
export function checkDockerfile(ins: readonly Instruction[], repoRoot: string, ignored: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const froms = ins.map((x, i) => [x, i] as const).filter(([x]) => x.op === 'FROM');
  if (froms.length < 2) out.push('Dockerfile: a multi-stage build needs at least two FROM lines');
  const stageNames = new Set(froms.map(([x]) => /\sAS\s+(\S+)/i.exec(x.args)?.[1]?.toLowerCase()).filter((s) => s !== undefined));
  if (!stageNames.has('build')) out.push('Dockerfile: no stage named "build" (FROM ... AS build)');
  const last = froms.at(-1);
  if (last !== undefined && !/^node:20-bookworm-slim(\s|$)/.test(last[0].args)) out.push(`Dockerfile:${last[0].line}: the runtime stage must be FROM node:20-bookworm-slim (got "${last[0].args}")`);
  const runtime = last === undefined ? [] : ins.slice(last[1] + 1);
  const build = froms.find(([x]) => /\sAS\s+build\b/i.test(x.args));
  if (build !== undefined) {
    const end = froms.find(([, i]) => i > build[1])?.[1] ?? ins.length;
    if (!ins.slice(build[1] + 1, end).some((x) => x.op === 'RUN' && /\bnpm ci\b/.test(x.args))) out.push('Dockerfile: the build stage must install dependencies with npm ci');
  }
  const users = runtime.filter((x) => x.op === 'USER');
  const user = users.at(-1);
  if (user === undefined) out.push('Dockerfile: the runtime stage has no USER (it would run as root)');
  else if (/^(root|0)(:|$)/.test(user.args)) out.push(`Dockerfile:${user.line}: USER ${user.args} is root`);
  if (!runtime.some((x) => x.op === 'VOLUME' && /["\s[]\/data["\s\]]|^\/data$/.test(x.args))) out.push('Dockerfile: the runtime stage must declare VOLUME /data (dataDir)');
  if (!runtime.some((x) => x.op === 'EXPOSE' && /\b8088\b/.test(x.args))) out.push('Dockerfile: EXPOSE 8088 (the API) is missing');
  if (!runtime.some((x) => x.op === 'HEALTHCHECK' && /\/health\b/.test(x.args))) out.push('Dockerfile: the runtime stage needs a HEALTHCHECK on /health');
  const cmdLine = runtime.filter((x) => x.op === 'ENTRYPOINT' || x.op === 'CMD').map((x) => x.args.replace(/[[\]",]/g, ' ').replace(/\s+/g, ' ').trim()).join(' ');
  if (!cmdLine.includes(GATEWAY_SCRIPT) || !GATEWAY_RUN.test(cmdLine)) out.push(`Dockerfile: ENTRYPOINT/CMD must run "${GATEWAY_SCRIPT} run -c /etc/fieldgate" (got "${cmdLine}")`);
  for (const x of ins.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
    const words = x.args.split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    const srcs = words.filter((w) => !w.startsWith('--')).slice(0, -1);
    if (srcs.length === 0) out.push(`Dockerfile:${x.line}: ${x.op} without a source`);
    for (const s of srcs) {
      const rel = s.replace(/^\.\//, '').replace(/\/$/, '');
      if (!existsSync(path.join(repoRoot, rel))) out.push(`Dockerfile:${x.line}: ${x.op} source "${s}" does not exist in the repository`);
      else if (ignored(rel)) out.push(`Dockerfile:${x.line}: ${x.op} source "${s}" is excluded by the .dockerignore`);
    }
  }
  return out;
}
