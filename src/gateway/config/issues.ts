/** Rendering of configuration issues for people: one line per issue, `file:line:col path: message`. */
import { formatPath } from '../../devicemodel/schema/issues.ts';
import type { ConfigIssue } from '../../devicemodel/schema/issues.ts';

export type { ConfigIssue };

/** One issue as `conf/modbus/sub_devices.yml:12:9 devices[0].accessConfig.modbus.tcp.port: expected …`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  const p = formatPath(issue.path);
  return p.length > 0 ? `${where} ${p}: ${issue.message}` : `${where}: ${issue.message}`;
}

/** All issues, one per line, in the order given. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n');
}
