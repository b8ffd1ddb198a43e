/**
 * The shadow store contract: shadows of every sub-device plus the durable cloud outbox, in one
 * place. The SQLite implementation is `openShadowStore` (store.ts); another (node:sqlite after a
 * move to Node 22+) must pass the same contract suite (test/shadow/contract.ts).
 *
 * Durability, in one table:
 * | call | in memory | on disk |
 * |---|---|---|
 * | `report` | at once | next batch (≤ `batchMs`); a report that changes only timestamps, at most once per `tsRefreshMs` |
 * | `append` | at once (not yet visible to `peek`) | next batch; `peek` shows it from then on |
 * | `desire`, `clearDesired`, `remove`, `appendSync` | at once | before the call returns (fsynced) |
 * | `ack`, `ackUpTo` | at once | at once (a lost ack only means a resend, which QoS 1 allows) |
 * | `flush` | - | everything pending, one transaction, before it returns |
 */
import type { ShadowDoc } from './json.ts';
import type { DesireOutcome, PropertyUpdate, ReportOutcome, Shadow, ShadowAnswer } from './state.ts';
import type { ShadowError } from './errors.ts';

/** MQTT QoS of an outbox message. */
export type Qos = 0 | 1 | 2;

/** What to drop when the outbox is full: the oldest rows (telemetry ages) or the message being appended. */
export type DropPolicy = 'oldest' | 'newest';

/** Options of a shadow store. */
export interface ShadowStoreOptions {
  /** Longest time (ms) a report or an `append` waits before its batch is written. Default 50. */
  readonly batchMs?: number;
  /** Most rows the outbox holds; beyond it `dropPolicy` applies and `stats().outbox.dropped` counts. Default 1,000,000. */
  readonly outboxMax?: number;
  /** Default `oldest`. */
  readonly dropPolicy?: DropPolicy;
  /**
   * `normal` (default): batches survive a crash of the process but the last ones may roll back on a
   * power loss; `full`: every batch is fsynced too. Must-not-lose writes are fsynced either way.
   */
  readonly synchronous?: 'normal' | 'full';
  /**
   * Cap on the database size in bytes (SQLite `max_page_count`). A batch that would grow the file
   * past it fails with `Storage` (`SQLITE_FULL`), exactly like a full disk; acked rows free room again.
   * Default: no cap besides the disk.
   */
  readonly maxDbBytes?: number;
  /** Clock for `created_at` and desired timestamps; defaults to `Date.now`. */
  readonly now?: () => number;
  /** Called when a background batch fails (disk full, file unwritable); the store keeps its data in memory and retries. */
  readonly onError?: (err: ShadowError) => void;
  /** Called when a batch is written again after one or more failures (space came back). */
  readonly onRecovered?: () => void;
  /**
   * A report that changes no value and no quality (the same values read again, only their `ts`
   * newer) is written at most this often per device (ms). In memory every `ts` is current; on disk
   * an unchanged property's `ts` may lag by up to this much. Without it an idle plant would rewrite
   * every device's row at every poll. Default 60,000; 0 writes every report.
   */
  readonly tsRefreshMs?: number;
}

/** One outbox message. */
export interface OutboxEntry {
  /** Increasing and never reused in the same database; order of `append`. */
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: Qos;
  /** Epoch ms of `append`. */
  readonly createdAt: number;
}

/** What one committed batch wrote; passed to `onFlush` listeners after the commit. */
export interface FlushInfo {
  /** The shadows written, at the versions now on disk. */
  readonly shadows: readonly { readonly device: string; readonly reportVersion: number; readonly desireVersion: number }[];
  /** Outbox rows inserted (before any drop). */
  readonly outboxRows: number;
  /** Highest outbox seq on disk after this batch, if any was ever written. */
  readonly lastSeq: number | undefined;
  /** Wall time of the transaction. */
  readonly durationMs: number;
}

/** Counters for metrics and the API. */
export interface ShadowStoreStats {
  readonly devices: number;
  /** Shadows changed in memory and not yet on disk. */
  readonly dirty: number;
  /** Property updates received by `report` since open. */
  readonly updates: number;
  readonly flushes: number;
  readonly lastFlushMs: number;
  readonly maxFlushMs: number;
  /** False while the last write failed: data is served from memory but not persisted. */
  readonly persisting: boolean;
  readonly lastError: string | undefined;
  readonly outbox: {
    /** Rows waiting for an ack, on disk and pending. */
    readonly size: number;
    /** Of which not yet on disk. */
    readonly pending: number;
    readonly appended: number;
    readonly acked: number;
    /** Dropped by the bound since open. */
    readonly dropped: number;
  };
}

/** Shadows and outbox of one gateway. All calls are synchronous; none may be called after `close()`. */
export interface ShadowStore {
  /** Merges samples into the device's shadow (created on first use); persisted in the next batch. */
  report(device: string, props: Readonly<Record<string, PropertyUpdate>>): ReportOutcome;
  /** The shadow, or `undefined` if the device was never reported nor desired. Treat as read-only. */
  get(device: string): Shadow | undefined;
  /** Names of all devices with a shadow, sorted. */
  devices(): string[];
  /**
   * Applies a desired merge patch and persists it before returning (fsynced): once this returns,
   * the cloud may be told the desire is stored. `version` = expected current `desireVersion`.
   * @throws ShadowError `VersionConflict`, `BadPatch`, `TooDeep`, `Storage` (then nothing changed).
   */
  desire(device: string, patch: unknown, version?: number): DesireOutcome;
  /** Removes desired keys after a successful write (see `clearDesired` in state.ts); persisted before returning. */
  clearDesired(device: string, keys: readonly string[] | ShadowDoc): DesireOutcome;
  /** Desired keys whose value differs from the report; `{}` for an unknown device. */
  delta(device: string): ShadowDoc;
  /** `{name, report, desire}` as baetyl-core answers a `deviceDesire`; empty documents for a device never seen. */
  shadowAnswer(device: string): ShadowAnswer;
  /** Deletes a device's shadow (device removed from the configuration); persisted before returning. */
  remove(device: string): boolean;

  /**
   * Queues a message for the cloud; it is written with the next batch and only then visible to
   * `peek`. Returns its seq, or `undefined` if the `newest` drop policy refused it. A seq returned
   * for a message that a crash lost before its batch may be handed out again after restart.
   */
  append(topic: string, payload: string | Uint8Array, qos: Qos): number | undefined;
  /** Like `append`, but written and fsynced (with everything pending) before it returns. */
  appendSync(topic: string, payload: string | Uint8Array, qos: Qos): number | undefined;
  /** Up to `n` stored messages with seq > `afterSeq` (default 0), oldest first. */
  peek(n: number, afterSeq?: number): OutboxEntry[];
  /** Deletes one message (after its PUBACK). Returns true if it was there. */
  ack(seq: number): boolean;
  /** Deletes every message with seq ≤ `seq`. Returns how many. */
  ackUpTo(seq: number): number;

  /** Writes everything pending in one transaction now. @throws ShadowError `Storage`. */
  flush(): FlushInfo;
  /** Calls `listener` after every committed batch. Returns a function that unsubscribes. */
  onFlush(listener: (info: FlushInfo) => void): () => void;
  stats(): ShadowStoreStats;
  /** Flushes and closes. A second call does nothing. */
  close(): void;
}
