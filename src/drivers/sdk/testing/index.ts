/**
 * `fieldgate/sdk/testing`: the conformance kit every driver (built-in or plugin) runs in its own
 * tests. See docs/plugins.md.
 */
export { assertConformant, runDriverConformance } from './conformance.ts';
export type { CheckStatus, ConformanceCheck, ConformanceOptions, ConformancePoint, ConformanceReport, PointOutcome } from './conformance.ts';
export { countResources, extraResources } from './resources.ts';
export type { ResourceCount } from './resources.ts';
export { descriptorProblems } from './shape.ts';
