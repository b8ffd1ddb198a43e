/** The point table the driver tests share: every type, offsets, nsu=, a broken point. */
import type { OpcuaAddress } from '../../src/drivers/opcua/address.ts';
import type { Point } from '../../src/drivers/sdk/index.ts';
import { pt } from './helpers.ts';

/** Namespace URI the simulator registers for ns=2. */
export const NS2 = 'urn:fieldgate:test:ns2';
/** A namespace URI registered through a `nsu=` node id. */
export const NSU = 'urn:fieldgate:test:speed';

/** One point of every type (device nsOffset 1 and idOffset 1000 complete the parts form). */
export const TYPED: readonly Point<OpcuaAddress>[] = [
  pt('1', 'double', 'float64', { nodeid: 'ns=2;s=Double' }),
  pt('2', 'float', 'float32', { nodeid: 'ns=2;s=Float' }),
  pt('3', 'int16', 'int16', { nsBase: 1, idBase: 1, idType: 'i', type: 'int16' }),
  pt('4', 'int32', 'int32', { nsBase: 1, idBase: 2, idType: 'i' }),
  pt('5', 'int64', 'int64', { nsBase: 1, idBase: 'Int64', idType: 's' }),
  pt('6', 'uint16', 'uint16', { nodeId: 'ns=2;s=UInt16' }),
  pt('7', 'uint32', 'uint32', { nodeid: 'ns=2;s=UInt32' }),
  pt('8', 'uint64', 'uint64', { nodeid: 'ns=2;s=UInt64' }),
  pt('9', 'bool', 'bool', { nodeid: 'ns=2;s=Boolean' }),
  pt('10', 'string', 'string', { nodeid: 'ns=2;s=String' }),
];
/** A point by `nsu=` URI. */
export const SPEED = pt('11', 'speed', 'float64', { nodeid: `nsu=${NSU};s=Speed` });
/** A point the simulator can make answer with a Bad status. */
export const BROKEN = pt('12', 'broken', 'float64', { nodeid: 'ns=2;s=Broken' });
/** Gateway-side only: an unknown node, and an int16 point on the Double node. */
export const UNKNOWN = pt('13', 'ghost', 'float64', { nodeid: 'ns=2;s=Nope' });
export const WRONG_TYPE = pt('14', 'wrongType', 'int16', { nodeid: 'ns=2;s=Double' });
export const UNKNOWN_NS = pt('15', 'elsewhere', 'float64', { nodeid: 'nsu=urn:nobody:here;s=X' });
/** Ten numeric points for batching (ns=2;i=1..10 are not used above). */
export const MANY: readonly Point<OpcuaAddress>[] = Array.from({ length: 10 }, (_, i) => pt(`m${i}`, `m${i}`, 'float64', { nodeid: `ns=3;i=${i + 1}` }));

/** Device offsets that turn nsBase 1 / idBase 1 into ns=2;i=1001. */
export const OFFSETS = { nsOffset: 1, idOffset: 1000 };
