/**
 * OPC UA configuration in Baetyl's keys (`visitor.opcua`, `accessConfig.opcua`), plus fieldgate's
 * optional additions. Baetyl key names are never renamed.
 *
 * Node ids follow Baetyl's Go demo (`demo/golang/opcua/driver.go`): `ns = nsOffset + nsBase`;
 * `idType: i` gives `ns=<ns>;i=<idOffset + idBase>`, `s|g|b` give `ns=<ns>;<idType>=<idBase>`
 * (the id offset only applies to numeric ids). A full `nodeid` is used as written.
 */
import { baseConnectionShape, duration, z } from '../sdk/index.ts';
import type { Point } from '../sdk/index.ts';
import { POINT_TYPES } from '../../devicemodel/types.ts';

/**
 * The text form of a node id (OPC UA Part 6 §5.3.1.10): `ns=<n>;` or `nsu=<uri>;` (optional),
 * then `i=<uint32>`, `s=<string>`, `g=<guid>` or `b=<base64>`.
 */
const NODE_ID = /^(?:(?:ns=\d+|nsu=[^;]+);)?(?:i=\d+|s=.+|g=[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|b=[A-Za-z0-9+/=]+)$/s;

/** True when `text` is a node id in the OPC UA text form. */
export function isNodeIdText(text: string): boolean {
  return NODE_ID.test(text);
}

const deadbandSchema = z.strictObject({
  /** `absolute`: in the value's unit; `percent`: of the node's EURange (Part 8 §6.2). */
  type: z.enum(['absolute', 'percent']),
  value: z.number().nonnegative(),
});

const nodeIdString = z.string().refine(isNodeIdText, { message: 'not an OPC UA node id; write e.g. "ns=2;s=Temperature", "ns=2;i=1001" or "nsu=urn:vendor:plc;s=Speed"' });

/** `visitor.opcua` of one access-template property. */
export const opcuaAddressSchema = z
  .strictObject({
    // Baetyl's keys
    /** A full node id (Baetyl marks it deprecated in favour of nsBase/idBase, but both exist). */
    nodeid: nodeIdString.optional(),
    nsBase: z.number().int().min(0).max(65535).optional(),
    idBase: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
    idType: z.enum(['i', 's', 'g', 'b']).optional(),
    type: z.enum(POINT_TYPES).optional(),
    // fieldgate's additions
    /** The same as `nodeid`, in the spelling of the OPC UA specification. */
    nodeId: nodeIdString.optional(),
    /** An index range (Part 4 §7.22) selecting one element of an array variable, e.g. "3". */
    indexRange: z.string().regex(/^\d+(?::\d+)?(?:,\d+(?::\d+)?)*$/, 'an index range is e.g. "3" or "0:1"').optional(),
    /** Per-point override of the device's `subscribe`. */
    mode: z.enum(['subscribe', 'poll']).optional(),
    /** Monitored item sampling interval (default: the device's samplingInterval). */
    samplingInterval: duration().optional(),
    /** Monitored item queue size (default 1: only the latest value). */
    queueSize: z.number().int().min(1).max(1000).optional(),
    /** Deadband passed to the server in the monitored item's DataChangeFilter. */
    deadband: deadbandSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const full = v.nodeid ?? v.nodeId;
    const parts = v.idBase !== undefined || v.nsBase !== undefined || v.idType !== undefined;
    if (v.nodeid !== undefined && v.nodeId !== undefined && v.nodeid !== v.nodeId) {
      ctx.addIssue({ code: 'custom', path: ['nodeId'], message: 'nodeid and nodeId differ; give one' });
    }
    if (full !== undefined && parts) {
      ctx.addIssue({ code: 'custom', message: 'give either nodeid or nsBase/idBase/idType, not both' });
    } else if (full === undefined) {
      if (v.idBase === undefined) ctx.addIssue({ code: 'custom', path: ['idBase'], message: 'give nodeid (e.g. "ns=2;s=Temperature") or nsBase, idBase and idType' });
      const t = v.idType ?? 'i';
      if (t === 'i' && v.idBase !== undefined && !/^\d+$/.test(String(v.idBase))) {
        ctx.addIssue({ code: 'custom', path: ['idBase'], message: `idType i needs a numeric idBase, not "${v.idBase}"` });
      }
      if (t === 'g' && v.idBase !== undefined && !isNodeIdText(`g=${v.idBase}`)) {
        ctx.addIssue({ code: 'custom', path: ['idBase'], message: `idType g needs a GUID idBase (8-4-4-4-12 hex digits), not "${v.idBase}"` });
      }
      if (t === 'b' && v.idBase !== undefined && !isNodeIdText(`b=${v.idBase}`)) {
        ctx.addIssue({ code: 'custom', path: ['idBase'], message: `idType b needs a base64 idBase, not "${v.idBase}"` });
      }
    }
  })
  .transform((v) => {
    const full = v.nodeid ?? v.nodeId;
    const node: NodeRef =
      full !== undefined
        ? { kind: 'text', text: full }
        : { kind: 'parts', nsBase: v.nsBase ?? 0, idBase: String(v.idBase), idType: v.idType ?? 'i' };
    return {
      node,
      type: v.type,
      indexRange: v.indexRange,
      mode: v.mode,
      samplingInterval: v.samplingInterval,
      queueSize: v.queueSize,
      deadband: v.deadband,
    };
  });
export type OpcuaAddress = z.output<typeof opcuaAddressSchema>;

/** Where a point's node is: a full node id, or Baetyl's parts that the device's offsets complete. */
export type NodeRef =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'parts'; readonly nsBase: number; readonly idBase: string; readonly idType: 'i' | 's' | 'g' | 'b' };

/** Security policy names (the fragment of the policy URI, Part 7 §6.6). */
export const SECURITY_POLICIES = ['None', 'Basic128Rsa15', 'Basic256', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;
export type SecurityPolicyName = (typeof SECURITY_POLICIES)[number];
export const SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export type SecurityModeName = (typeof SECURITY_MODES)[number];

const securitySchema = z
  .strictObject({
    policy: z.enum(SECURITY_POLICIES).default('None'),
    mode: z.enum(SECURITY_MODES).default('None'),
  })
  .refine((s) => (s.policy === 'None') === (s.mode === 'None'), {
    message: 'policy None goes with mode None, and mode Sign/SignAndEncrypt needs a policy such as Basic256Sha256',
  });

const trustSchema = z.strictObject({
  /**
   * How the server's certificate is trusted: `tofu` pins the first certificate seen per endpoint
   * (logged with its thumbprint) and rejects a different one later; `list` accepts only the
   * certificates named in `certificates`.
   */
  policy: z.enum(['tofu', 'list']).default('tofu'),
  /** SHA-1 thumbprints (hex, colons allowed) or paths of PEM/DER certificate files. */
  certificates: z.array(z.string().min(1)).default([]),
});

/** `accessConfig.opcua` of one sub-device. */
export const opcuaConnectionSchema = z
  .strictObject({
    // Baetyl's keys
    id: z.union([z.string(), z.number()]).optional(),
    endpoint: z.string().regex(/^opc\.tcp:\/\/[^\s/]+(?::\d+)?(?:\/.*)?$/, 'an endpoint is e.g. opc.tcp://127.0.0.1:4840'),
    // Baetyl's demo defaults an OPC UA interval to 20 s.
    ...baseConnectionShape({ interval: 20_000, timeout: 10_000 }),
    subscribe: z.boolean().default(false),
    security: securitySchema.default({ policy: 'None', mode: 'None' }),
    auth: z
      .strictObject({ username: z.string().optional(), password: z.string().optional() })
      .default({}),
    /** X.509 user identity: PEM text or file paths of the certificate and its private key. */
    certificate: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    nsOffset: z.number().int().default(0),
    idOffset: z.number().int().default(0),
    // fieldgate's additions
    trust: trustSchema.default({ policy: 'tofu', certificates: [] }),
    /** Default monitored item sampling interval; the device's `interval` when absent. */
    samplingInterval: duration().optional(),
    /** Subscription publishing interval; the smallest sampling interval when absent. */
    publishingInterval: duration().optional(),
    /** Cap on nodes per Read request; the server's MaxNodesPerRead applies as well. */
    maxNodesPerRead: z.number().int().min(1).max(100_000).default(1000),
    /** Requested session timeout. */
    sessionTimeout: duration().default(60_000),
  })
  .superRefine((v, ctx) => {
    if ((v.auth.username === undefined) !== (v.auth.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'give both username and password (or neither for anonymous access)' });
    }
    if (v.trust.policy === 'list' && v.trust.certificates.length === 0 && v.security.mode !== 'None') {
      ctx.addIssue({ code: 'custom', path: ['trust', 'certificates'], message: 'trust policy list needs at least one certificate (thumbprint or file)' });
    }
  });
export type OpcuaConnection = z.output<typeof opcuaConnectionSchema>;

/** The node id text of a point for a device's offsets (Baetyl's rule, see the file comment). */
export function nodeIdText(node: NodeRef, connection: Pick<OpcuaConnection, 'nsOffset' | 'idOffset'>): string {
  if (node.kind === 'text') return node.text;
  const ns = connection.nsOffset + node.nsBase;
  if (node.idType === 'i') return `ns=${ns};i=${connection.idOffset + Number(node.idBase)}`;
  return `ns=${ns};${node.idType}=${node.idBase}`;
}

/** Whether a point is read by a monitored item (`subscribe`) or by Read requests (`poll`). */
export function pointMode(point: Point<OpcuaAddress>, connection: Pick<OpcuaConnection, 'subscribe'>): 'subscribe' | 'poll' {
  return point.address.mode ?? (connection.subscribe ? 'subscribe' : 'poll');
}

/** Checks a point as a whole (visitor type against the property type). */
export function checkOpcuaPoint(point: Point<OpcuaAddress>): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const a = point.address;
  if (a.type !== undefined && a.type !== point.type) {
    out.push({ path: ['visitor', 'opcua', 'type'], message: `visitor type ${a.type} differs from the property type ${point.type}` });
  }
  if (a.deadband !== undefined && (point.type === 'string' || point.type === 'bool')) {
    out.push({ path: ['visitor', 'opcua', 'deadband'], message: `a deadband applies to numeric points, not ${point.type}` });
  }
  return out;
}
