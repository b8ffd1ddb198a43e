/** Shape checks of a driver descriptor, shared by the conformance kit and the plugin loader. */

/** What is missing or mistyped in a would-be descriptor; empty when it is usable. */
export function descriptorProblems(v: unknown): string[] {
  if (v === null || typeof v !== 'object') return ['a descriptor must be an object'];
  const d = v as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['id', 'version', 'sdkVersion', 'title']) {
    if (typeof d[k] !== 'string' || (d[k] as string).length === 0) out.push(`${k} must be a non-empty string`);
  }
  if (typeof d.id === 'string' && !/^[A-Za-z][A-Za-z0-9_-]*$/.test(d.id)) {
    out.push(`id ${JSON.stringify(d.id)} must start with a letter and hold only letters, digits, "_" and "-" (it is a key in Baetyl's files)`);
  }
  for (const k of ['connectionSchema', 'addressSchema']) {
    const s = d[k] as { safeParse?: unknown } | null | undefined;
    if (s === null || typeof s !== 'object' || typeof s.safeParse !== 'function') out.push(`${k} must be a zod schema`);
  }
  for (const k of ['link', 'create']) if (typeof d[k] !== 'function') out.push(`${k} must be a function`);
  if (d.checkPoint !== undefined && typeof d.checkPoint !== 'function') out.push('checkPoint must be a function when present');
  const c = d.capabilities as Record<string, unknown> | null | undefined;
  if (c === null || typeof c !== 'object') out.push('capabilities must be an object');
  else {
    for (const k of ['read', 'write', 'subscribe', 'discover', 'batch']) if (typeof c[k] !== 'boolean') out.push(`capabilities.${k} must be true or false`);
    if (c.maxPointsPerRead !== undefined && !(Number.isInteger(c.maxPointsPerRead) && (c.maxPointsPerRead as number) > 0)) out.push('capabilities.maxPointsPerRead must be a positive integer when present');
  }
  return out;
}
