/**
 * A systemd unit file parser and the checks of fieldgate's unit, as pure functions returning the
 * problems found (empty = fine). They stand in for `systemctl start`, which cannot run here.
 */
import { GATEWAY_RUN, GATEWAY_SCRIPT } from './command.ts';

/** A unit file: section → list of [key, value] (keys may repeat, as systemd allows). */
export type Ini = Map<string, [string, string][]>;

/** Parses a systemd unit file: `[Section]`, `Key=Value`, `#`/`;` comments, `\` continuations. */
export function parseIni(text: string): Ini {
  const ini: Ini = new Map();
  let section: [string, string][] | undefined;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = pending + raw.trim();
    pending = '';
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec !== null) {
      section = [];
      ini.set(sec[1] ?? '', section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section === undefined || eq < 0) throw new Error(`unit file: "${line}" is neither a [Section] nor a Key=Value inside one`);
    section.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return ini;
}

/** The last value of a key (systemd: a later assignment overrides an earlier one). */
export function iniGet(ini: Ini, section: string, key: string): string | undefined {
  return ini.get(section)?.filter(([k]) => k === key).at(-1)?.[1];
}

/** User, command line, restart and reload, working directory, hardening, install target. */
export function checkUnit(ini: Ini): string[] {
  const out: string[] = [];
  for (const s of ['Unit', 'Service', 'Install']) if (!ini.has(s)) out.push(`unit: section [${s}] is missing`);
  const user = iniGet(ini, 'Service', 'User');
  if (user === undefined || user === 'root' || user === '0') out.push(`unit: [Service] User must name a non-root user (got ${user ?? 'none'})`);
  const exec = iniGet(ini, 'Service', 'ExecStart') ?? '';
  if (!exec.startsWith('/') || !exec.includes(GATEWAY_SCRIPT) || !GATEWAY_RUN.test(exec)) out.push(`unit: ExecStart must be an absolute command running "${GATEWAY_SCRIPT} run -c /etc/fieldgate" (got "${exec}")`);
  if (!iniGet(ini, 'Service', 'WorkingDirectory')?.startsWith('/')) out.push('unit: WorkingDirectory must be an absolute path');
  if (iniGet(ini, 'Service', 'Restart') !== 'on-failure') out.push('unit: Restart must be on-failure');
  if (!/^\S*kill -HUP \$MAINPID$/.test(iniGet(ini, 'Service', 'ExecReload') ?? '')) out.push('unit: ExecReload must send SIGHUP to $MAINPID (the gateway reloads its configuration on it)');
  const yes = (k: string) => iniGet(ini, 'Service', k) === 'yes' || iniGet(ini, 'Service', k) === 'true';
  for (const k of ['NoNewPrivileges', 'PrivateTmp', 'ProtectHome', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectControlGroups', 'RestrictSUIDSGID']) {
    if (!yes(k)) out.push(`unit: hardening ${k}=yes is missing`);
  }
  if (!['strict', 'full'].includes(iniGet(ini, 'Service', 'ProtectSystem') ?? '')) out.push('unit: ProtectSystem must be strict or full');
  if (yes('MemoryDenyWriteExecute')) out.push('unit: MemoryDenyWriteExecute=yes breaks Node.js (V8 writes machine code at run time)');
  if (yes('PrivateDevices')) out.push('unit: PrivateDevices=yes hides the serial ports the Modbus RTU driver opens');
  if (iniGet(ini, 'Install', 'WantedBy') !== 'multi-user.target') out.push('unit: [Install] WantedBy=multi-user.target is missing');
  return out;
}
