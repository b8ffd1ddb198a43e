/**
 * The OPC UA driver, on node-opcua-client 2.182.2 (loaded on the first connect, see load.ts):
 * security None / Sign / SignAndEncrypt, anonymous / username / X.509 users, poll mode (Read
 * requests batched up to the server's MaxNodesPerRead) and subscribe mode (monitored items).
 */
import type { DriverContext, DriverDescriptor } from '../sdk/index.ts';
import { checkOpcuaPoint, opcuaAddressSchema, opcuaConnectionSchema } from './address.ts';
import type { OpcuaAddress, OpcuaConnection } from './address.ts';
import { OpcuaSession } from './session.ts';

/** The OPC UA driver descriptor (`visitor.opcua`, `accessConfig.opcua`). */
export const descriptor: DriverDescriptor<OpcuaConnection, OpcuaAddress> = {
  id: 'opcua',
  version: '0.1.0',
  sdkVersion: '^1.0.0',
  title: 'OPC UA (client)',
  connectionSchema: opcuaConnectionSchema,
  addressSchema: opcuaAddressSchema,
  checkPoint: checkOpcuaPoint,
  capabilities: {
    read: true,
    write: true,
    subscribe: true,
    discover: false,
    batch: true,
  },
  /**
   * Devices with the same endpoint, security, user and offsets-independent settings share one
   * session. node-opcua matches responses by request handle, so several calls may overlap.
   */
  link: (c) => ({
    key: JSON.stringify([c.endpoint, c.security.policy, c.security.mode, c.auth.username ?? '', c.certificate?.cert ?? '', c.trust.policy]),
    window: 4,
  }),
  create: (ctx: DriverContext) => ({
    connect: (connection, options) => OpcuaSession.open(connection, options, ctx),
  }),
  // node-opcua's first import evaluates for seconds without yielding (2 s on an idle 2-core
  // machine, 6-7 s under load): done before the gateway polls anything, not at the first connect.
  prepare: async () => {
    const { loadCertificateManager, loadOpcua } = await import('./load.ts');
    await loadOpcua();
    await loadCertificateManager();
  },
};

export default descriptor;
