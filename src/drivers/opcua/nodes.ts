/**
 * Resolving points to nodes on one session: the node id for the device's offsets, `nsu=` URIs
 * through the server's NamespaceArray, and the check of the node's DataType against the point's
 * type. Done once per point and session (the first read or subscribe after each connect), so a
 * wrong type or an unknown node is reported as soon as the device is online, for that point only.
 */
import type { NodeId } from 'node-opcua-client';
import type { Point, PointError } from '../sdk/index.ts';
import { nodeIdText } from './address.ts';
import type { OpcuaAddress, OpcuaConnection } from './address.ts';
import type { OpcuaModule } from './load.ts';
import { DATA_TYPE_OF, dataTypeName, POINT_TYPE_OF, severity, statusError } from './values.ts';
import type { StatusLike } from './values.ts';

/** A point's node on this session, or why it has none. */
export type ResolvedNode =
  | { readonly ok: true; readonly nodeId: NodeId; readonly text: string }
  | { readonly ok: false; readonly text: string; readonly error: PointError };

/** DataType attribute id (Part 6 §A.1, AttributeIds.DataType). */
const ATTRIBUTE_DATA_TYPE = 14;
/** Built-in DataType ids are ns=0;i=1..25 (Part 6 §5.1.2); others are subtypes or structures. */
const LAST_BUILTIN = 25;

/** Rewrites `nsu=<uri>;` to `ns=<index>;` through the NamespaceArray; `undefined` when the URI is unknown. */
export function withNamespaceIndex(text: string, namespaces: readonly string[]): string | undefined {
  const m = /^nsu=([^;]+);(.*)$/s.exec(text);
  if (m === null) return text;
  const index = namespaces.indexOf(m[1]!);
  return index < 0 ? undefined : `ns=${index};${m[2]!}`;
}

/** The parts of a session this file uses. */
export interface ReadCapable {
  read(nodes: { nodeId: NodeId; attributeId: number }[]): Promise<{ statusCode: StatusLike; value: { value: unknown } }[]>;
}

/**
 * Resolves `points` of one device, checking DataTypes with batched Reads of at most `limit`
 * nodes. Throws only when a request failed as a whole (the caller maps it).
 */
export async function resolveNodes(
  opcua: OpcuaModule,
  session: ReadCapable,
  connection: OpcuaConnection,
  points: readonly Point<OpcuaAddress>[],
  namespaces: readonly string[],
  limit: number,
): Promise<Map<string, ResolvedNode>> {
  const out = new Map<string, ResolvedNode>();
  const toCheck: { point: Point<OpcuaAddress>; nodeId: NodeId; text: string }[] = [];
  for (const p of points) {
    const text = nodeIdText(p.address.node, connection);
    const plain = withNamespaceIndex(text, namespaces);
    if (plain === undefined) {
      out.set(p.id, {
        ok: false,
        text,
        error: { code: 'BadAddress', message: `point "${p.name}": namespace of ${text} is not in the server's NamespaceArray [${namespaces.join(', ')}]`, detail: { nodeId: text } },
      });
      continue;
    }
    try {
      toCheck.push({ point: p, nodeId: opcua.resolveNodeId(plain), text });
    } catch (e) {
      out.set(p.id, { ok: false, text, error: { code: 'BadAddress', message: `point "${p.name}": ${text} is not a valid node id: ${(e as Error).message}` } });
    }
  }
  for (let i = 0; i < toCheck.length; i += limit) {
    const chunk = toCheck.slice(i, i + limit);
    const dvs = await session.read(chunk.map((c) => ({ nodeId: c.nodeId, attributeId: ATTRIBUTE_DATA_TYPE })));
    chunk.forEach((c, k) => {
      const dv = dvs[k];
      if (dv === undefined || severity(dv.statusCode) === 'bad') {
        const st = dv?.statusCode ?? { value: 0x80000000, name: 'BadUnexpectedError' };
        const err = statusError(c.point.name, st, 'read');
        out.set(c.point.id, { ok: false, text: c.text, error: { ...err, message: `${err.message} (node ${c.text})`, detail: { ...err.detail, nodeId: c.text } } });
        return;
      }
      const mismatch = typeMismatch(c.point, c.text, dv.value.value);
      out.set(c.point.id, mismatch === undefined ? { ok: true, nodeId: c.nodeId, text: c.text } : { ok: false, text: c.text, error: mismatch });
    });
  }
  return out;
}

/**
 * The error for a point whose node has another built-in DataType, or `undefined` when it fits.
 * Subtypes (e.g. Duration of Double) are accepted here; each value's variant type is checked
 * when it is read.
 */
export function typeMismatch(point: Point<OpcuaAddress>, text: string, dataTypeNodeId: unknown): PointError | undefined {
  const dt = dataTypeNodeId as { namespace?: number; value?: unknown } | null;
  if (dt === null || typeof dt !== 'object' || dt.namespace !== 0 || typeof dt.value !== 'number' || dt.value > LAST_BUILTIN) return undefined;
  const want = DATA_TYPE_OF[point.type];
  if (dt.value === want) return undefined;
  const fits = POINT_TYPE_OF[dt.value];
  return {
    code: 'Config',
    message:
      `point "${point.name}" is declared ${point.type} (${dataTypeName(want)}) but node ${text} has DataType ${dataTypeName(dt.value)}` +
      (fits !== undefined ? `; declare the point as type ${fits}` : '; no fieldgate point type reads it'),
    detail: { nodeId: text, declared: point.type, dataType: dataTypeName(dt.value) },
  };
}
