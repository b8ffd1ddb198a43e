/**
 * Discovery: browses a server's Objects folder (bounded depth and count) and turns the variables
 * whose DataType a point type reads into a device model and an access template in Baetyl's
 * shapes (models.yml / access_template.yml), ready to save into conf/. Standard nodes (ns=0,
 * e.g. the Server object) are skipped.
 */
import type { PointType } from '../../devicemodel/types.ts';
import type { OpcuaConnection } from './address.ts';
import { OpcuaSession } from './session.ts';
import type { DriverContext } from '../sdk/index.ts';
import { POINT_TYPE_OF } from './values.ts';

/** One variable found. */
export interface DiscoveredVariable {
  readonly nodeId: string;
  /** Browse names from Objects down to the variable, joined by `/`. */
  readonly path: string;
  /** A unique property name made from the browse name. */
  readonly name: string;
  readonly type: PointType;
  readonly writable: boolean;
}

/** What discovery produces. */
export interface Discovery {
  readonly variables: readonly DiscoveredVariable[];
  /** `models.yml` content: `{ <product>: [ {name, id, type, mode} ] }`. */
  readonly models: Record<string, { name: string; id: string; type: PointType; mode: 'ro' | 'rw' }[]>;
  /** `access_template.yml` content with `value` mappings (`x<id>`). */
  readonly templates: Record<string, { properties: { name: string; id: string; type: PointType; visitor: { opcua: { nodeid: string; type: PointType } } }[]; mappings: { attribute: string; type: 'value'; expression: string }[] }>;
}

/** Options of {@link discoverOpcua}. */
export interface DiscoverOptions {
  /** Levels below Objects to browse (default 4). */
  readonly depth?: number;
  /** Stop after this many variables (default 1000). */
  readonly limit?: number;
  /** Names of the product and template written (default `opcua-product` / `opcua-template`). */
  readonly product?: string;
  readonly template?: string;
}

const OBJECTS_FOLDER = 'ns=0;i=85';
/** NodeClass mask bits (Part 4 §5.8.2): Object 1, Variable 2. */
const OBJECT = 1;
const VARIABLE = 2;
/** Attribute ids (Part 6 §A.1): DataType 14, AccessLevel 17 (bit 1 = CurrentWrite). */
const ATTR_DATA_TYPE = 14;
const ATTR_ACCESS_LEVEL = 17;

/** Connects with `connection`, browses, and closes. Throws a DriverError when the connect fails. */
export async function discoverOpcua(connection: OpcuaConnection, ctx: DriverContext, options: DiscoverOptions = {}): Promise<Discovery> {
  const s = await OpcuaSession.open(connection, { signal: ctx.signal, onLost: () => undefined }, ctx);
  try {
    const found: { nodeId: string; path: string; browseName: string }[] = [];
    const limit = options.limit ?? 1000;
    const seen = new Set<string>();
    let level: { nodeId: string; path: string }[] = [{ nodeId: OBJECTS_FOLDER, path: '' }];
    for (let depth = 0; depth < (options.depth ?? 4) && level.length > 0 && found.length < limit; depth++) {
      const next: { nodeId: string; path: string }[] = [];
      for (const parent of level) {
        const result = await s.session.browse({
          nodeId: parent.nodeId,
          browseDirection: s.opcua.BrowseDirection.Forward,
          referenceTypeId: 'HierarchicalReferences',
          includeSubtypes: true,
          nodeClassMask: OBJECT | VARIABLE,
          resultMask: 63,
        });
        for (const ref of result.references ?? []) {
          const id = ref.nodeId.toString();
          if (ref.nodeId.namespace === 0 || seen.has(id)) continue;
          seen.add(id);
          const name = String(ref.browseName.name ?? id);
          const p = parent.path === '' ? name : `${parent.path}/${name}`;
          if (ref.nodeClass === s.opcua.NodeClass.Variable) found.push({ nodeId: id, path: p, browseName: name });
          // Variables may have children too (properties, components of complex variables).
          next.push({ nodeId: id, path: p });
          if (found.length >= limit) break;
        }
      }
      level = next;
    }
    const variables: DiscoveredVariable[] = [];
    const names = new Set<string>();
    // Two attributes per variable in one Read, within MaxNodesPerRead.
    const step = Math.max(1, Math.floor(s.maxNodesPerRead / 2));
    for (let i = 0; i < found.length; i += step) {
      const chunk = found.slice(i, i + step);
      const dvs = await s.session.read(chunk.flatMap((f) => [
        { nodeId: f.nodeId, attributeId: ATTR_DATA_TYPE },
        { nodeId: f.nodeId, attributeId: ATTR_ACCESS_LEVEL },
      ]));
      chunk.forEach((f, k) => {
        const dt = dvs[2 * k]?.value.value as { namespace?: number; value?: unknown } | null | undefined;
        const type = dt && dt.namespace === 0 && typeof dt.value === 'number' ? POINT_TYPE_OF[dt.value] : undefined;
        if (type === undefined) return;
        const access = Number(dvs[2 * k + 1]?.value.value ?? 1);
        let name = f.browseName.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60) || 'var';
        for (let n = 2; names.has(name); n++) name = `${name.replace(/_\d+$/, '')}_${n}`;
        names.add(name);
        variables.push({ nodeId: f.nodeId, path: f.path, name, type, writable: (access & 2) !== 0 });
      });
    }
    const product = options.product ?? 'opcua-product';
    const template = options.template ?? 'opcua-template';
    return {
      variables,
      models: { [product]: variables.map((v, i) => ({ name: v.name, id: String(i + 1), type: v.type, mode: v.writable ? 'rw' : 'ro' })) },
      templates: {
        [template]: {
          properties: variables.map((v, i) => ({ name: v.name, id: String(i + 1), type: v.type, visitor: { opcua: { nodeid: v.nodeId, type: v.type } } })),
          mappings: variables.map((v, i) => ({ attribute: v.name, type: 'value', expression: `x${i + 1}` })),
        },
      },
    };
  } finally {
    await s.close();
  }
}
