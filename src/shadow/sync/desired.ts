/**
 * Desired documents from the cloud: version check, validation by the gateway, storage, answer.
 *
 * Versions follow AWS IoT device shadows, with the edge store as the shadow service: a document may
 * name the edge `desireVersion` it was based on. Older than the one held: ignored (counted), and
 * answered `stale` with the current version so the cloud can rebase. Newer than the one held (the
 * edge lost its database): answered `conflict`. Without a version: applied as is. Documents of one
 * device are handled one at a time, in arrival order.
 */
import type { Logger } from '../../drivers/sdk/types.ts';
import type { AttributeValue } from '../../devicemodel/types.ts';
import { isShadowError } from '../errors.ts';
import type { ShadowStore } from '../store-api.ts';
import type { AckFields, DesiredDoc, Rejection } from './protocol.ts';

/** The gateway's verdict on a desired patch: which properties it will write, which it refuses and why. */
export interface DesiredVerdict {
  readonly accepted: readonly string[];
  readonly rejected: readonly Rejection[];
}

/**
 * Validates a desired patch (mode rw, type, range, known property). Must not write to the device:
 * the accepted part is stored only after it returns, and {@link DesiredAppliedListener}s are told then.
 */
export type DesiredHandler = (device: string, patch: Readonly<Record<string, AttributeValue>>, version: number | undefined) => Promise<DesiredVerdict>;

/** Called once accepted properties are stored (fsynced): the device's delta may now be written. */
export type DesiredAppliedListener = (device: string, accepted: readonly string[], desireVersion: number) => void;

/** Counters of the desired path. */
export interface DesiredCounters {
  received: number;
  ignoredStale: number;
  conflicts: number;
  accepted: number;
  rejected: number;
}

/** Handles desired documents for {@link CloudSync}. */
export class DesiredInbox {
  handler: DesiredHandler | undefined;
  readonly applied = new Set<DesiredAppliedListener>();
  readonly counters: DesiredCounters = { received: 0, ignoredStale: 0, conflicts: 0, accepted: 0, rejected: 0 };
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Pick<ShadowStore, 'get' | 'desire'>,
    private readonly answer: (device: string, fields: AckFields) => void,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Queues a document behind earlier ones of the same device; resolves once it is answered. */
  receive(doc: DesiredDoc): Promise<void> {
    const prev = this.chains.get(doc.device) ?? Promise.resolve();
    const next = prev.then(() => this.handle(doc)).catch((e: unknown) => {
      this.log.error({ device: doc.device, err: e instanceof Error ? e.message : String(e) }, 'desired document failed');
    });
    this.chains.set(doc.device, next);
    void next.then(() => {
      if (this.chains.get(doc.device) === next) this.chains.delete(doc.device);
    });
    return next;
  }

  /** Resolves when every queued document has been answered. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private async handle(doc: DesiredDoc): Promise<void> {
    this.counters.received++;
    const { device } = doc;
    const held = this.store.get(device)?.desireVersion ?? 0;
    const base = { clientToken: doc.clientToken, version: doc.version, accepted: [] as string[], rejected: [] as Rejection[] };
    if (doc.version !== undefined && doc.version !== held) {
      const stale = doc.version < held;
      if (stale) this.counters.ignoredStale++;
      else this.counters.conflicts++;
      this.log.info({ device, version: doc.version, held }, stale ? 'stale desired document ignored' : 'desired document ahead of the edge version');
      this.answer(device, { ...base, status: stale ? 'stale' : 'conflict', desireVersion: held, timestamp: this.now() });
      return;
    }
    const keys = Object.keys(doc.desired);
    let verdict: DesiredVerdict;
    try {
      verdict = this.handler === undefined ? { accepted: keys, rejected: [] } : await this.handler(device, doc.desired, doc.version);
    } catch (e) {
      const reason = `validation failed: ${e instanceof Error ? e.message : String(e)}`;
      verdict = { accepted: [], rejected: keys.map((property) => ({ property, reason })) };
    }
    // Keep to the document's keys; a key the handler neither accepted nor rejected is rejected.
    const accepted = keys.filter((k) => verdict.accepted.includes(k));
    const rejected: Rejection[] = verdict.rejected.filter((r) => keys.includes(r.property) && !accepted.includes(r.property));
    for (const k of keys) {
      if (!accepted.includes(k) && !rejected.some((r) => r.property === k)) rejected.push({ property: k, reason: 'not accepted by the gateway' });
    }
    let desireVersion = this.store.get(device)?.desireVersion ?? 0;
    if (accepted.length > 0) {
      const patch: Record<string, AttributeValue> = {};
      for (const k of accepted) Object.defineProperty(patch, k, { value: doc.desired[k], enumerable: true, writable: true, configurable: true });
      try {
        // No version here: it was checked on arrival; only local acknowledgements can have moved it since.
        desireVersion = this.store.desire(device, patch).shadow.desireVersion;
      } catch (e) {
        const reason = isShadowError(e) ? `${e.code}: ${e.message}` : String(e);
        this.log.error({ device, err: reason }, 'desired document could not be stored');
        for (const property of accepted) rejected.push({ property, reason });
        accepted.length = 0;
      }
    }
    this.counters.accepted += accepted.length;
    this.counters.rejected += rejected.length;
    const status = rejected.length === 0 ? 'accepted' : accepted.length === 0 ? 'rejected' : 'partial';
    // The desire is stored (fsynced) above: start writing it to the device before the answer's
    // own durable append, so the write does not wait for a second fsync.
    if (accepted.length > 0) {
      for (const l of this.applied) {
        try {
          l(device, accepted, desireVersion);
        } catch (e) {
          this.log.error({ device, err: e instanceof Error ? e.message : String(e) }, 'desired listener threw');
        }
      }
    }
    this.answer(device, { ...base, status, accepted, rejected, desireVersion, timestamp: this.now() });
  }
}
