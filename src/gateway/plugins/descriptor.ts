/**
 * Finding and checking a plugin's descriptor in its module: the default export, else the export
 * named `descriptor` (or the one the configuration names). Checks the shape, not the behaviour
 * (that is the conformance kit's job), so that a broken plugin fails at load with a clear message.
 */
import type { DriverDescriptor } from '../../drivers/sdk/index.ts';
import { descriptorProblems } from '../../drivers/sdk/testing/shape.ts';

/** Thrown when a module holds no usable descriptor; `problems` lists what is wrong. */
export class DescriptorShapeError extends Error {
  override readonly name = 'DescriptorShapeError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** The descriptor exported by a plugin module (throws {@link DescriptorShapeError}). */
export function pickDescriptor(mod: Record<string, unknown>, exportName?: string): DriverDescriptor {
  const candidates = exportName !== undefined ? [exportName] : ['default', 'descriptor'];
  for (const name of candidates) {
    let v = mod[name];
    // A CommonJS plugin imported as ESM puts module.exports on `default`.
    if (name === 'default' && v !== null && typeof v === 'object' && 'descriptor' in v && !('create' in v)) v = (v as Record<string, unknown>).descriptor;
    if (v === undefined) continue;
    const problems = descriptorProblems(v);
    if (problems.length > 0) throw new DescriptorShapeError(problems.map((p) => `export ${JSON.stringify(name)}: ${p}`));
    return v as DriverDescriptor;
  }
  throw new DescriptorShapeError([`the module exports no driver descriptor (looked for ${candidates.map((c) => JSON.stringify(c)).join(' and ')}; exports: ${Object.keys(mod).join(', ') || 'none'})`]);
}
