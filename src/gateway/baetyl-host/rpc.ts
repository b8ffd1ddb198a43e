/**
 * gRPC plumbing for hosting Baetyl drivers: the protos (driver.proto, health.proto,
 * controller.proto beside this file) loaded at run time with @grpc/proto-loader, promise-returning
 * clients with deadlines, and our `proto.Report` server.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { DriverError } from '../../drivers/sdk/index.ts';
import type { DriverErrorCode } from '../../drivers/sdk/index.ts';

/** `proto.RequestArgs`. */
export interface RequestArgs {
  readonly brokerid: number;
  readonly request: string;
}

/** `proto.ResponseResult`. */
export interface ResponseResult {
  readonly data: string;
}

/** The methods of `proto.Driver`, in baetyl-gateway's spelling. */
export type DriverMethod = 'GetDriverInfo' | 'SetConfig' | 'Setup' | 'Start' | 'Restart' | 'Stop' | 'Get' | 'Set';

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

interface Loaded {
  readonly Driver: Ctor & { service: grpc.ServiceDefinition };
  readonly Report: Ctor & { service: grpc.ServiceDefinition };
  readonly Health: Ctor;
  readonly Controller: Ctor;
}

let loaded: Loaded | undefined;

/** Loads the three protos once (lazily: no work at import time). */
function protos(): Loaded {
  if (loaded) return loaded;
  const file = (name: string) => fileURLToPath(new URL(`./proto/${name}`, import.meta.url));
  const def = protoLoader.loadSync([file('driver.proto'), file('health.proto'), file('controller.proto')], {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    proto: { Driver: Loaded['Driver']; Report: Loaded['Report'] };
    grpc: { health: { v1: { Health: Ctor } } };
    plugin: { GRPCController: Ctor };
  };
  loaded = { Driver: pkg.proto.Driver, Report: pkg.proto.Report, Health: pkg.grpc.health.v1.Health, Controller: pkg.plugin.GRPCController };
  return loaded;
}

/** A gRPC target for a go-plugin handshake address. */
export function targetOf(network: 'tcp' | 'unix', address: string): string {
  return network === 'unix' ? `unix:${address}` : address;
}

/** Maps a gRPC failure to a DriverError: unreachable → Offline, deadline → Timeout, else Exception. */
export function rpcError(method: string, e: unknown): DriverError {
  const err = e as grpc.ServiceError;
  let code: DriverErrorCode = 'Exception';
  if (err?.code === grpc.status.UNAVAILABLE || err?.code === grpc.status.CANCELLED) code = 'Offline';
  else if (err?.code === grpc.status.DEADLINE_EXCEEDED) code = 'Timeout';
  else if (err?.code === grpc.status.UNIMPLEMENTED) code = 'Unsupported';
  return new DriverError(code, `${method}: ${err?.details || err?.message || String(e)}`, {
    cause: e,
    ...(typeof err?.code === 'number' ? { detail: { grpcStatus: err.code } } : {}),
  });
}

function unary<Req, Res>(client: grpc.Client, method: string, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: Req, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, res: Res) => void) => void>)[method];
    if (fn === undefined) {
      reject(new DriverError('Unsupported', `no method ${method}`));
      return;
    }
    fn.call(client, req, { deadline: Date.now() + timeoutMs }, (e, res) => (e ? reject(rpcError(method, e)) : resolve(res)));
  });
}

/** Client of one driver process: `proto.Driver`, the health service and go-plugin's controller. */
export class DriverRpc {
  private readonly driver: grpc.Client;
  private readonly health: grpc.Client;
  private readonly controller: grpc.Client;

  constructor(target: string) {
    const p = protos();
    const creds = grpc.credentials.createInsecure();
    // One channel for all three services: they are served by the same process on one port.
    this.driver = new p.Driver(target, creds);
    const channelOverride = this.driver.getChannel();
    this.health = new p.Health(target, creds, { channelOverride } as grpc.ChannelOptions);
    this.controller = new p.Controller(target, creds, { channelOverride } as grpc.ChannelOptions);
  }

  /** Calls a `proto.Driver` method. */
  async call(method: DriverMethod, args: Partial<RequestArgs>, timeoutMs: number): Promise<string> {
    const res = await unary<RequestArgs, ResponseResult>(this.driver, method, { brokerid: args.brokerid ?? 0, request: args.request ?? '' }, timeoutMs);
    return res?.data ?? '';
  }

  /** grpc.health.v1 Check; the status name (`SERVING`…). */
  async check(service: string, timeoutMs: number): Promise<string> {
    const res = await unary<{ service: string }, { status: string }>(this.health, 'Check', { service }, timeoutMs);
    return res.status;
  }

  /** go-plugin's controller Shutdown; resolves false when the driver does not implement it. */
  async shutdown(timeoutMs: number): Promise<boolean> {
    try {
      await unary<object, object>(this.controller, 'Shutdown', {}, timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.health.close();
    this.controller.close();
    this.driver.close();
  }
}

/** What our `proto.Report` server does with each call; the returned text is `ResponseResult.data`. */
export interface ReportHandlers {
  post(request: string): string;
  state(request: string): string;
}

/** A running Report server. */
export interface ReportServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts our `proto.Report` server on 127.0.0.1 (a free port). A handler that throws answers the
 * call with INVALID_ARGUMENT and the error's message.
 */
export async function startReportServer(handlers: ReportHandlers): Promise<ReportServer> {
  const server = new grpc.Server();
  const wrap =
    (fn: (request: string) => string): grpc.handleUnaryCall<RequestArgs, ResponseResult> =>
    (call, callback) => {
      try {
        callback(null, { data: fn(call.request.request) });
      } catch (e) {
        callback({ code: grpc.status.INVALID_ARGUMENT, details: e instanceof Error ? e.message : String(e) }, null);
      }
    };
  server.addService(protos().Report.service, { Post: wrap(handlers.post), State: wrap(handlers.state) });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        // Give in-flight calls a moment, then cut them.
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 500);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
