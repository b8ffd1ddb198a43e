/**
 * Messages between the gateway (host) and an isolated plugin's worker thread. Everything crosses
 * by structured clone (bigint, numbers, strings, plain objects): never JSON strings. Errors cross
 * as {@link PointError} objects, because a cloned `Error` loses its `code`.
 */
import type { BaseConnection, DeviceRef, Point, PointError, PointWrite, ReadResult } from '../../drivers/sdk/index.ts';

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  /** file: URL of the plugin module. */
  readonly entry: string;
  /** Named export holding the descriptor; default export, then `descriptor`, when absent. */
  readonly exportName?: string;
  /** file: URL of tsx's ESM API, registered before the plugin is imported (TypeScript plugins). */
  readonly tsxApi?: string;
  readonly dataDir: string;
  /** Log bindings the worker's logger starts with. */
  readonly bindings: Record<string, unknown>;
}

/** Requests from the host; each carries an `id` answered by exactly one `ok` or `err`. */
export type HostRequest =
  | { readonly t: 'connect'; readonly id: number; readonly connection: BaseConnection }
  | { readonly t: 'read'; readonly id: number; readonly session: number; readonly device: DeviceRef; readonly points: readonly Point[] }
  | { readonly t: 'write'; readonly id: number; readonly session: number; readonly device: DeviceRef; readonly writes: readonly PointWrite[] }
  | { readonly t: 'subscribe'; readonly id: number; readonly session: number; readonly device: DeviceRef; readonly points: readonly Point[] }
  | { readonly t: 'unsubscribe'; readonly id: number; readonly sub: number }
  | { readonly t: 'closeSession'; readonly id: number; readonly session: number }
  | { readonly t: 'closeDriver'; readonly id: number }
  | { readonly t: 'ping'; readonly id: number };

/** Fire-and-forget messages from the host. */
export type HostNotice = { readonly t: 'abort'; readonly call: number };

export type HostMessage = HostRequest | HostNotice;

/** Which optional session methods the plugin's session has (the proxy mirrors them). */
export interface SessionShape {
  readonly session: number;
  readonly write: boolean;
  readonly subscribe: boolean;
}

/** Messages from the worker. */
export type WorkerMessage =
  | { readonly t: 'ready' }
  | { readonly t: 'fatal'; readonly error: PointError }
  | { readonly t: 'ok'; readonly id: number; readonly value: unknown }
  | { readonly t: 'err'; readonly id: number; readonly error: PointError }
  | { readonly t: 'lost'; readonly session: number; readonly error: PointError }
  | { readonly t: 'push'; readonly sub: number; readonly device: string; readonly results: readonly ReadResult[] }
  | { readonly t: 'event'; readonly sub: number; readonly device: string; readonly events: Record<string, unknown>; readonly ts?: number }
  | { readonly t: 'subError'; readonly sub: number; readonly device: string; readonly error: PointError }
  | { readonly t: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly bindings: Record<string, unknown>; readonly obj: unknown; readonly msg?: string }
  | { readonly t: 'metric'; readonly name: string; readonly labels?: Record<string, string>; readonly by?: number };
