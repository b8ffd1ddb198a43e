/**
 * One OPC UA session (a secure channel to one endpoint) shared by the devices on it.
 *
 * - node-opcua's own reconnection is off (`maxRetry: 0`): the gateway owns the link. A lost
 *   channel, a closed session or a failed keep-alive becomes one `onLost`; the gateway closes
 *   this session, connects a new one and calls `subscribe` again.
 * - Points are resolved per device on first use after each connect (nodes.ts): an unknown node
 *   or a DataType that does not match the point type makes that point bad, with a clear message.
 * - Poll reads are batched up to the server's MaxNodesPerRead (read at connect) and the
 *   connection's `maxNodesPerRead`. Points that a subscription keeps up to date are answered
 *   from its latest value, without a Read request.
 */
import type { ClientSession, NodeId, OPCUAClient } from 'node-opcua-client';
import { DriverError } from '../sdk/index.ts';
import type { ConnectOptions, DeviceRef, DriverContext, Point, PointError, PointWrite, ReadResult, Session, Subscription, SubscriptionSink, WriteResult } from '../sdk/index.ts';
import { pointMode } from './address.ts';
import type { OpcuaAddress, OpcuaConnection } from './address.ts';
import { loadOpcua } from './load.ts';
import type { OpcuaModule } from './load.ts';
import { resolveNodes } from './nodes.ts';
import type { ReadCapable, ResolvedNode } from './nodes.ts';
import { certificateManagerFor, pkiPaths, userIdentity } from './pki.ts';
import type { TrustVerdict } from './pki.ts';
import { subscribeDevice } from './subscriptions.ts';
import { resultOf, statusError, toVariantValue } from './values.ts';
import type { DataValueLike, StatusLike } from './values.ts';

type OPoint = Point<OpcuaAddress>;
type Device = DeviceRef<OpcuaConnection>;

/** Server_ServerCapabilities_OperationLimits_MaxNodesPerRead / …PerWrite, Server_NamespaceArray (Part 5). */
const MAX_NODES_PER_READ = 'ns=0;i=11705';
const MAX_NODES_PER_WRITE = 'ns=0;i=11707';
const NAMESPACE_ARRAY = 'ns=0;i=2255';

function pointError(e: DriverError): PointError {
  return e.detail === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, detail: e.detail };
}

/** Status names that mean the server refused the user or the gateway's certificate. */
const CONFIG_STATUSES = /Bad(UserAccessDenied|IdentityTokenInvalid|IdentityTokenRejected|SecurityPolicyRejected|SecurityModeRejected|CertificateUntrusted|CertificateInvalid|CertificateUriInvalid|CertificateHostNameInvalid|CertificateTimeInvalid|CertificateRevoked|CertificateUseNotAllowed|ApplicationSignatureInvalid|NoValidCertificates)/;

/** Maps a node-opcua failure to a DriverError (connect and requests). */
export function toOpcuaError(e: unknown, context: string, verdict?: TrustVerdict): DriverError {
  if (e instanceof DriverError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (verdict !== undefined && verdict.message !== undefined && !verdict.trusted) {
    return new DriverError('Config', `${context}: ${verdict.message}`, { cause: e, ...(verdict.detail ? { detail: verdict.detail } : {}) });
  }
  const status = CONFIG_STATUSES.exec(message);
  if (status !== null) {
    const name = status[0];
    const hint = /User|Identity/.test(name)
      ? 'check auth.username/password or the user certificate'
      : /SecurityPolicy|SecurityMode/.test(name)
        ? 'the server does not offer this security.policy/mode'
        : "the server does not trust the gateway's application certificate: trust it on the server";
    return new DriverError('Config', `${context}: ${name} (${hint})`, { cause: e, detail: { status: name } });
  }
  // node-opcua's client-side check that the endpoint offers the identity given (e.g. no
  // anonymous policy on a server that wants a user): retrying cannot help.
  const token = /Cannot find (\w+) user token policy/i.exec(message);
  if (token !== null) {
    return new DriverError('Config', `${context}: the server offers no ${token[1]!.toLowerCase()} user identity on this endpoint (set auth.username/password or certificate to one it accepts)`, {
      cause: e,
      detail: { reason: 'UserTokenPolicyNotOffered' },
    });
  }
  if (/cannot find endpoint|No endpoint|endpoint.*not found/i.test(message)) {
    return new DriverError('Config', `${context}: ${message}`, { cause: e, detail: { reason: 'NoMatchingEndpoint' } });
  }
  if (/timed? ?out|BadTimeout|BadRequestTimeout/i.test(message)) return new DriverError('Timeout', `${context}: ${message}`, { cause: e });
  if (/BadTooManyOperations|BadEncoding|BadDecoding|BadResponseTooLarge|BadRequestTooLarge/.test(message)) {
    return new DriverError('Protocol', `${context}: ${message}`, { cause: e });
  }
  return new DriverError('Offline', `${context}: ${message}`, { cause: e });
}

/**
 * Waits for `p`, failing with `Timeout` after `ms` (plus slack for node-opcua's own timer, which
 * normally fires first) or with `Offline` when `signal` aborts.
 */
function deadline<T>(p: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => finish(() => reject(new DriverError('Offline', `${what}: aborted`)));
    const timer = setTimeout(() => finish(() => reject(new DriverError('Timeout', `${what}: no answer within ${ms} ms`))), ms + 250);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** An open OPC UA session. Create with {@link OpcuaSession.open}. */
export class OpcuaSession implements Session<OpcuaConnection, OpcuaAddress> {
  #state: 'open' | 'lost' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  /** Resolved nodes per device name (this session only). */
  readonly #nodes = new Map<string, Map<string, ResolvedNode>>();
  /** Latest subscription values per device, then point id. */
  readonly #pushed = new Map<string, Map<string, ReadResult>>();
  readonly #subscriptions = new Set<Subscription>();
  /** Rejecters of calls in flight, so that a lost or closed session fails them at once. */
  readonly #pending = new Set<(e: DriverError) => void>();

  private constructor(
    readonly opcua: OpcuaModule,
    private readonly client: OPCUAClient,
    readonly session: ClientSession,
    private readonly namespaces: readonly string[],
    /** Nodes per Read request: the server's MaxNodesPerRead and the connection's cap. */
    readonly maxNodesPerRead: number,
    private readonly maxNodesPerWrite: number,
    private readonly ctx: DriverContext,
    private readonly onLost: ConnectOptions['onLost'],
  ) {
    this.#watch();
  }

  /** Opens a secure channel and a session; rejects with a coded DriverError. */
  static async open(connection: OpcuaConnection, options: ConnectOptions, ctx: DriverContext): Promise<OpcuaSession> {
    const opcua = await loadOpcua();
    const endpoint = connection.endpoint;
    const paths = pkiPaths(ctx.dataDir);
    const { manager, verdict } = await certificateManagerFor(endpoint, connection, paths, ctx.log);
    const identity = userIdentity(opcua, connection);
    const client = opcua.OPCUAClient.create({
      applicationName: 'fieldgate',
      clientCertificateManager: manager,
      securityMode: opcua.MessageSecurityMode[connection.security.mode],
      securityPolicy: opcua.SecurityPolicy[connection.security.policy],
      // A server behind NAT advertises endpoints with other host names; match on security only.
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      requestedSessionTimeout: connection.sessionTimeout,
      defaultTransactionTimeout: connection.timeout,
      keepSessionAlive: true,
      keepAliveInterval: Math.max(1000, Math.min(connection.timeout, 5000)),
      clientName: 'fieldgate',
    });
    const what = `OPC UA ${endpoint}`;
    let session: ClientSession | undefined;
    try {
      await deadline(client.connect(endpoint), connection.timeout, options.signal, `${what}: connect`);
      session = await deadline(client.createSession(identity), connection.timeout, options.signal, `${what}: create session`);
      const s = session;
      const [limits, namespaces] = await deadline(
        Promise.all([readLimits(opcua, s), readNamespaces(opcua, s)]),
        connection.timeout,
        options.signal,
        `${what}: read server capabilities`,
      );
      const cap = (n: number) => (n > 0 ? Math.min(n, connection.maxNodesPerRead) : connection.maxNodesPerRead);
      ctx.log.debug({ endpoint, maxNodesPerRead: limits.read, namespaces }, 'OPC UA session open');
      return new OpcuaSession(opcua, client, s, namespaces, cap(limits.read), cap(limits.write), ctx, options.onLost);
    } catch (e) {
      const err = toOpcuaError(e, what, verdict);
      void client.disconnect().catch(() => undefined);
      throw err;
    }
  }

  planReads(device: Device, points: readonly OPoint[]): OPoint[][] {
    const cached: OPoint[] = [];
    const rest: OPoint[] = [];
    const pushed = this.#pushed.get(device.name);
    for (const p of points) (pushed?.has(p.id) ? cached : rest).push(p);
    const out: OPoint[][] = [];
    if (cached.length > 0) out.push(cached);
    for (let i = 0; i < rest.length; i += this.maxNodesPerRead) out.push(rest.slice(i, i + this.maxNodesPerRead));
    return out;
  }

  /** Reads the points; one result per point. Throws only when a request failed as a whole. */
  async read(device: Device, points: readonly OPoint[], signal: AbortSignal): Promise<ReadResult[]> {
    const nodes = await this.#resolve(device, points, signal);
    const out: ReadResult[] = [];
    const toRead: { point: OPoint; nodeId: NodeId }[] = [];
    const pushed = this.#pushed.get(device.name);
    for (const p of points) {
      const n = nodes.get(p.id)!;
      const last = pushed?.get(p.id);
      if (!n.ok) out.push({ id: p.id, quality: 'bad', error: n.error, ts: this.ctx.clock.now() });
      else if (last !== undefined) out.push(last);
      else toRead.push({ point: p, nodeId: n.nodeId });
    }
    for (let i = 0; i < toRead.length; i += this.maxNodesPerRead) {
      const chunk = toRead.slice(i, i + this.maxNodesPerRead);
      const request = chunk.map((c) => ({
        nodeId: c.nodeId,
        attributeId: this.opcua.AttributeIds.Value,
        ...(c.point.address.indexRange !== undefined ? { indexRange: c.point.address.indexRange as never } : {}),
      }));
      const dvs = await this.#call(device, () => this.session.read(request, 0), signal, 'read');
      const now = this.ctx.clock.now();
      chunk.forEach((c, k) => {
        const dv = dvs[k];
        out.push(
          dv === undefined
            ? { id: c.point.id, quality: 'bad', error: { code: 'Protocol', message: `point "${c.point.name}": the server returned no result` }, ts: now }
            : resultOf(c.point, dv as unknown as DataValueLike, now),
        );
      });
    }
    return out;
  }

  /** Writes with each node's exact DataType; one result per write. Throws only when the request failed. */
  async write(device: Device, writes: readonly PointWrite<OpcuaAddress>[], signal: AbortSignal): Promise<WriteResult[]> {
    const nodes = await this.#resolve(
      device,
      writes.map((w) => w.point),
      signal,
    );
    const results = new Map<number, WriteResult>();
    const send: { index: number; point: OPoint; value: unknown }[] = [];
    writes.forEach((w, index) => {
      const n = nodes.get(w.point.id)!;
      if (!n.ok) {
        results.set(index, { id: w.point.id, ok: false, error: n.error });
        return;
      }
      const enc = toVariantValue(w.point.type, w.value);
      if (!enc.ok) {
        results.set(index, { id: w.point.id, ok: false, error: { code: 'BadValue', message: `point "${w.point.name}": ${enc.message}` } });
        return;
      }
      const range = w.point.address.indexRange;
      const variant = new this.opcua.Variant({
        dataType: enc.dataType,
        // An index range writes an array slice (Part 4 §5.10.4); 64-bit words need Scalar spelled out.
        arrayType: range !== undefined ? this.opcua.VariantArrayType.Array : this.opcua.VariantArrayType.Scalar,
        value: range !== undefined ? [enc.value] : enc.value,
      });
      send.push({
        index,
        point: w.point,
        value: {
          nodeId: n.nodeId,
          attributeId: this.opcua.AttributeIds.Value,
          ...(range !== undefined ? { indexRange: range as never } : {}),
          value: { value: variant },
        },
      });
    });
    for (let i = 0; i < send.length; i += this.maxNodesPerWrite) {
      const chunk = send.slice(i, i + this.maxNodesPerWrite);
      const statuses = (await this.#call(device, () => this.session.write(chunk.map((c) => c.value) as never), signal, 'write')) as unknown as StatusLike[];
      chunk.forEach((c, k) => {
        const st = statuses[k];
        results.set(
          c.index,
          st !== undefined && st.value >>> 30 === 0
            ? { id: c.point.id, ok: true }
            : { id: c.point.id, ok: false, error: statusError(c.point.name, st ?? { value: 0x80000000, name: 'BadUnexpectedError' }, 'write') },
        );
      });
    }
    // A successful write changes what a subscription reported; read it fresh next time.
    this.#pushed.get(device.name)?.clear();
    return writes.map((_, i) => results.get(i)!);
  }

  /** Creates monitored items for the device's points in `subscribe` mode (none: a no-op handle). */
  async subscribe(device: Device, points: readonly OPoint[], sink: SubscriptionSink): Promise<Subscription> {
    const chosen = points.filter((p) => pointMode(p, device.connection) === 'subscribe');
    if (chosen.length === 0) return { close: async () => undefined };
    const ac = new AbortController();
    const nodes = await this.#resolve(device, chosen, ac.signal);
    const sub = await this.#call(
      device,
      () =>
        subscribeDevice(
          {
            opcua: this.opcua,
            session: this.session,
            now: () => this.ctx.clock.now(),
            remember: (name, results) => {
              if (this.#state !== 'open') return;
              let m = this.#pushed.get(name);
              if (m === undefined) this.#pushed.set(name, (m = new Map()));
              for (const r of results) if (r.quality !== 'bad') m.set(r.id, r);
            },
            forget: (name, ids) => {
              const m = this.#pushed.get(name);
              for (const id of ids) m?.delete(id);
            },
            lost: (message) => this.#lost(message),
          },
          device,
          chosen,
          nodes,
          sink,
        ),
      ac.signal,
      'subscribe',
    );
    this.#subscriptions.add(sub);
    return {
      close: async () => {
        this.#subscriptions.delete(sub);
        await sub.close();
      },
    };
  }

  /** Closes the session and the channel; idempotent. Calls in flight reject with `Offline`. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#state = 'closed';
      this.#failPending(new DriverError('Offline', 'the OPC UA session was closed'));
      // A dead server never answers CloseSession: do not let close() wait for the full timeout.
      this.#closing = deadline(this.client.disconnect(), 1500, undefined, 'disconnect').catch(() => undefined);
    }
    return this.#closing;
  }

  /** Resolves (once per session) the nodes of the device's points that are not resolved yet. */
  async #resolve(device: Device, points: readonly OPoint[], signal: AbortSignal): Promise<Map<string, ResolvedNode>> {
    let known = this.#nodes.get(device.name);
    if (known === undefined) this.#nodes.set(device.name, (known = new Map()));
    const missing = points.filter((p) => !known.has(p.id));
    if (missing.length > 0) {
      const found = await this.#call(
        device,
        () => resolveNodes(this.opcua, this.session as unknown as ReadCapable, device.connection, missing, this.namespaces, this.maxNodesPerRead),
        signal,
        'resolve nodes',
      );
      for (const [id, n] of found) {
        known.set(id, n);
        if (!n.ok) this.ctx.log.error({ device: device.name, point: id, nodeId: n.text, code: n.error.code }, n.error.message);
      }
    }
    return known;
  }

  /** Runs one request with the device's timeout; failures become coded DriverErrors. */
  async #call<T>(device: Device, op: () => Promise<T>, signal: AbortSignal, what: string): Promise<T> {
    if (this.#state !== 'open') throw new DriverError('Offline', `the OPC UA session is ${this.#state}`);
    if (signal.aborted) throw new DriverError('Offline', `${what}: aborted`);
    this.ctx.metrics.count('opcua_requests_total', { op: what });
    let fail: ((e: DriverError) => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.#pending.add(fail!);
    try {
      return await deadline(Promise.race([op(), stop]), device.connection.timeout, signal, `OPC UA ${what}`);
    } catch (e) {
      const err = toOpcuaError(e, `OPC UA ${what}`);
      this.ctx.metrics.count('opcua_request_errors_total', { code: err.code });
      throw err;
    } finally {
      this.#pending.delete(fail!);
    }
  }

  #failPending(e: DriverError): void {
    for (const fail of [...this.#pending]) fail(e);
  }

  #lost(message: string): void {
    if (this.#state !== 'open') return;
    this.#state = 'lost';
    const err = new DriverError('Offline', message);
    this.#failPending(err);
    this.onLost(pointError(err));
  }

  /** Turns a lost channel, a closed session or a failed keep-alive into one `onLost`. */
  #watch(): void {
    this.client.on('connection_lost', () => this.#lost('the OPC UA connection was lost'));
    this.client.on('close', (err?: Error | null) => this.#lost(`the OPC UA connection closed${err ? `: ${err.message}` : ''}`));
    this.client.on('backoff', () => this.#lost('the OPC UA connection is reconnecting'));
    this.session.on('session_closed', (status: { name?: string }) => this.#lost(`the OPC UA session was closed (${status?.name ?? 'unknown'})`));
    this.session.on('keepalive_failure', () => this.#lost('the OPC UA session keep-alive failed'));
  }
}

async function readLimits(opcua: OpcuaModule, session: ClientSession): Promise<{ read: number; write: number }> {
  // One node per Read: a server with MaxNodesPerRead = 1 must still answer.
  const one = async (nodeId: string) => {
    try {
      const dv = await session.read({ nodeId, attributeId: opcua.AttributeIds.Value });
      return typeof dv.value.value === 'number' ? dv.value.value : 0;
    } catch {
      return 0;
    }
  };
  return { read: await one(MAX_NODES_PER_READ), write: await one(MAX_NODES_PER_WRITE) };
}

async function readNamespaces(opcua: OpcuaModule, session: ClientSession): Promise<string[]> {
  const dv = await session.read({ nodeId: NAMESPACE_ARRAY, attributeId: opcua.AttributeIds.Value });
  const v: unknown = dv.value.value;
  return Array.isArray(v) ? v.map(String) : [];
}

