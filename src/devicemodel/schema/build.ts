/**
 * The model and template halves of compile(): models.yml entries → model maps, access templates →
 * points (addresses parsed by the driver) and mappings (expressions parsed and checked against
 * the point table), and the mapping checks against a device's model. Pure.
 */
import type { z } from 'zod';
import type { CompiledPoint, Mapping, ModelProperty } from '../compiled.ts';
import { parseExpression, solveLinear, variableIds } from '../expression.ts';
import { calculateResultProblem, isNumericPoint, valueMappingProblem } from './compat.ts';
import { didYouMean, formatPath } from './issues.ts';
import type { ConfigIssue, PathSegment } from './issues.ts';
import type { ModelPropertyInput } from './models.ts';
import type { MappingInput } from './template.ts';
import { issueAt } from './yaml.ts';
import type { LocateOptions, ParsedYaml } from './yaml.ts';
import { parseAt } from './zod-issues.ts';

/**
 * The parts of a driver descriptor compile uses. Structurally a subset of the SDK's
 * `DriverDescriptor` (devicemodel imports nothing of ours, so it is restated here).
 */
export interface CompileDriver {
  readonly connectionSchema: z.ZodType;
  readonly addressSchema: z.ZodType;
  checkPoint?(point: CompiledPoint): { path: (string | number)[]; message: string }[];
  link?(connection: never): { key: string; window: number };
}

/** A compiled access template: its good points and its non-`none` mappings (with their index in the file). */
export interface Template {
  readonly points: CompiledPoint[];
  readonly mappings: { readonly mapping: Mapping; readonly index: number }[];
}

/** Adds one located issue. */
export type Err = (file: ParsedYaml, path: readonly PathSegment[], message: string, opts?: LocateOptions) => void;

/** `; did you mean "x"?` when there is a close name, else the list of names. */
export function hintOrList(word: string, names: Iterable<string>, label: string): string {
  const all = [...names];
  const hint = didYouMean(word, all);
  if (hint !== '') return hint;
  return all.length === 0 ? ' (it defines none)' : `; ${label}: ${all.slice(0, 20).join(', ')}${all.length > 20 ? ', ...' : ''}`;
}

export function buildModel(product: string, list: readonly ModelPropertyInput[], file: ParsedYaml, err: Err): ReadonlyMap<string, ModelProperty> {
  const model = new Map<string, ModelProperty>();
  const index = new Map<string, number>();
  list.forEach((p, i) => {
    const at = (...k: PathSegment[]): PathSegment[] => [product, i, ...k];
    const first = index.get(p.name);
    if (first !== undefined) {
      err(file, at('name'), `duplicate property name ${JSON.stringify(p.name)} in model ${JSON.stringify(product)} (also ${formatPath([product, first])})`);
      return;
    }
    index.set(p.name, i);
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) err(file, at('min'), `min ${p.min} is greater than max ${p.max}`);
    const enumValues = p.enumType?.values?.map((v) => v.value);
    if (p.type === 'enum' && (enumValues === undefined || enumValues.length === 0)) {
      err(file, at('enumType'), 'a property of type enum needs enumType.values: [{name, value, displayName}, ...]');
    }
    const item = p.arrayType?.type;
    model.set(p.name, {
      name: p.name,
      type: p.type,
      mode: p.mode,
      ...(p.id !== undefined ? { id: p.id } : {}),
      ...(p.unit !== undefined && p.unit !== '' ? { unit: p.unit } : {}),
      ...(p.min !== undefined ? { min: p.min } : {}),
      ...(p.max !== undefined ? { max: p.max } : {}),
      ...(p.type === 'enum' && enumValues !== undefined ? { enumValues } : {}),
      ...(p.type === 'array' && item !== undefined && item !== '' ? { arrayItemType: item } : {}),
    });
  });
  return model;
}

export function buildTemplate(
  name: string,
  properties: readonly { name: string; id: string; type: CompiledPoint['type']; visitor: Record<string, unknown> }[],
  mappings: readonly MappingInput[],
  file: ParsedYaml,
  driverId: string,
  driver: CompileDriver,
  errors: ConfigIssue[],
  err: Err,
): Template {
  const points: CompiledPoint[] = [];
  const ids = new Map<string, number>();
  const types = new Map<string, CompiledPoint['type']>();
  properties.forEach((p, j) => {
    const base: PathSegment[] = [name, 'properties', j];
    const first = ids.get(p.id);
    if (first !== undefined) {
      err(file, [...base, 'id'], `duplicate point id ${JSON.stringify(p.id)} (also ${formatPath([name, 'properties', first])})`);
      return;
    }
    ids.set(p.id, j);
    types.set(p.id, p.type);
    if (!(driverId in p.visitor)) {
      const found = Object.keys(p.visitor);
      err(file, [...base, 'visitor'], `no visitor.${driverId}: this instance runs driver "${driverId}", so every point needs its address under visitor.${driverId}${found.length > 0 ? ` (found: ${found.join(', ')})` : ''}`);
      return;
    }
    const r = parseAt(driver.addressSchema, p.visitor[driverId], file, [...base, 'visitor', driverId]);
    if (!r.ok) {
      errors.push(...r.issues);
      return;
    }
    const point: CompiledPoint = { id: p.id, name: p.name, type: p.type, address: r.value };
    const problems = driver.checkPoint?.(point) ?? [];
    for (const pr of problems) err(file, [...base, ...pr.path], pr.message);
    if (problems.length === 0) points.push(point);
  });

  const compiled: { mapping: Mapping; index: number }[] = [];
  const attrs = new Map<string, number>();
  mappings.forEach((m, k) => {
    const base: PathSegment[] = [name, 'mappings', k];
    const first = attrs.get(m.attribute);
    if (first !== undefined) {
      err(file, [...base, 'attribute'], `duplicate mapping for attribute ${JSON.stringify(m.attribute)} (also ${formatPath([name, 'mappings', first])})`);
      return;
    }
    attrs.set(m.attribute, k);
    if (m.type === 'none') return;
    const src = m.expression ?? '';
    if (src.trim() === '') {
      err(file, [...base, 'expression'], `a ${m.type} mapping needs an expression over point ids, e.g. x1${m.type === 'calculate' ? ' or x1*0.1' : ''}`);
      return;
    }
    const parsed = parseExpression(src);
    if (!parsed.ok) {
      err(file, [...base, 'expression'], `bad expression ${JSON.stringify(src)}: ${parsed.error}`, { inner: parsed.position });
      return;
    }
    const vars = variableIds(parsed.expr);
    const unknown = vars.filter((v) => !types.has(v));
    if (unknown.length > 0) {
      err(file, [...base, 'expression'], `${unknown.map((v) => `x${v}`).join(', ')} ${unknown.length === 1 ? 'names no point' : 'name no points'} of template ${JSON.stringify(name)}; its point ids are ${[...types.keys()].join(', ') || '(none)'}`);
      return;
    }
    if (vars.length === 0) {
      err(file, [...base, 'expression'], `the expression reads no point; name points as x<id>, e.g. x1`);
      return;
    }
    if (m.type === 'value' && (vars.length !== 1 || parsed.expr.kind !== 'var')) {
      err(file, [...base, 'expression'], `a value mapping passes one point through: write just x<id> (e.g. x${vars[0]}), or use type calculate`);
      return;
    }
    if (m.type === 'calculate') {
      const bad = vars.filter((v) => !isNumericPoint(types.get(v)!));
      if (bad.length > 0) {
        err(file, [...base, 'expression'], `calculate works on numbers, but ${bad.map((v) => `x${v} is ${types.get(v)}`).join(', ')}; use a value mapping for it`);
        return;
      }
    }
    const precision = m.precision !== undefined && m.precision > 0 ? m.precision : undefined;
    compiled.push({
      index: k,
      mapping: {
        attribute: m.attribute,
        kind: m.type,
        expr: parsed.expr,
        pointIds: vars,
        ...(precision !== undefined ? { precision } : {}),
        deviation: m.deviation ?? 0,
        deadband: m.deadband ?? 0,
        silentWin: (m.silentWin ?? 0) * 1000,
      },
    });
  });
  return { points, mappings: compiled };
}

/** Checks a template's mappings against one model (once per template/model pair). */
export function checkMappings(
  tplName: string,
  product: string,
  tpl: Template,
  model: ReadonlyMap<string, ModelProperty>,
  file: ParsedYaml,
  err: Err,
  notes: ConfigIssue[],
): void {
  const types = new Map(tpl.points.map((p) => [p.id, p] as const));
  for (const { mapping: m, index } of tpl.mappings) {
    const base: PathSegment[] = [tplName, 'mappings', index];
    const attr = model.get(m.attribute);
    if (attr === undefined) {
      err(file, [...base, 'attribute'], `attribute ${JSON.stringify(m.attribute)} is not a property of model ${JSON.stringify(product)}${hintOrList(m.attribute, model.keys(), 'its properties')}`);
      continue;
    }
    if (m.kind === 'value') {
      const point = types.get(m.pointIds[0]!);
      const problem = point === undefined ? undefined : valueMappingProblem(point.type, attr.type);
      if (problem !== undefined) {
        err(file, [...base, 'expression'], `x${point!.id} (${JSON.stringify(point!.name)}, ${point!.type}) cannot feed attribute ${JSON.stringify(attr.name)} (${attr.type}): ${problem}`);
      }
    } else {
      const problem = calculateResultProblem(attr.type);
      if (problem !== undefined) err(file, [...base, 'expression'], `attribute ${JSON.stringify(attr.name)} (${attr.type}): ${problem}`);
      else if (attr.mode === 'rw') {
        const solved = solveLinear(m.expr, 1);
        if (!solved.ok) {
          notes.push(issueAt(file, [...base, 'expression'], `attribute ${JSON.stringify(attr.name)} is rw but its expression cannot be solved for a write (${solved.error}); desired values for it will be refused`));
        }
      }
    }
  }
}

