/**
 * Faults a simulated Modbus device can show, so the gateway's timeouts, retries, exception
 * handling and reconnects can be tested against something that misbehaves on purpose.
 */
import { z } from 'zod';
import { duration } from '../../src/drivers/sdk/schema.ts';
import type { Table } from '../../src/drivers/modbus/address.ts';

const exceptionRule = z.strictObject({
  /** Table the rule applies to; all four when absent. */
  table: z.enum(['coil', 'discrete', 'holding', 'input']).optional(),
  address: z.number().int().min(0).max(0xffff),
  /** Addresses covered from `address` on (default 1). */
  count: z.number().int().min(1).max(0x10000).default(1),
  /** Modbus exception code (Modbus Application Protocol V1.1b3 §7): 2 illegal data address, 4 device failure… */
  code: z.number().int().min(1).max(255).default(2),
});

/** The faults of one device, as written in a simulator file (all optional). */
export const modbusFaultsSchema = z.strictObject({
  /** Every reply is sent this long after the request. */
  delay: duration().default(0),
  /** Fraction (0..1) of requests that get no reply at all (the client times out). */
  dropRate: z.number().min(0).max(1).default(0),
  /** Requests that touch these addresses get a Modbus exception instead of data. */
  exceptions: z.array(exceptionRule).default([]),
  /**
   * `truncate`: replies lose the second half of their data. The frame stays well formed (MBAP
   * length or RTU CRC match what is sent), so a client sees a short PDU, not a stalled link.
   */
  malformed: z.enum(['none', 'truncate']).default('none'),
});

/** Parsed faults (durations in ms). */
export type ModbusFaults = z.output<typeof modbusFaultsSchema>;
/** Faults as written or passed to `setFaults` (a partial update). */
export type ModbusFaultsInput = z.input<typeof modbusFaultsSchema>;
/** One exception rule. */
export type ExceptionRule = ModbusFaults['exceptions'][number];

/** No faults. */
export const NO_FAULTS: ModbusFaults = modbusFaultsSchema.parse({});

/** The exception code for a request on `table` covering [address, address+count), if a rule hits it. */
export function exceptionFor(rules: readonly ExceptionRule[], table: Table, address: number, count: number): number | undefined {
  for (const r of rules) {
    if (r.table !== undefined && r.table !== table) continue;
    if (address < r.address + r.count && r.address < address + count) return r.code;
  }
  return undefined;
}

/**
 * A Modbus exception thrown from the service vector: modbus-serial's servers turn any thrown
 * object with `modbusErrorCode` into an exception response (function code | 0x80, then the code).
 */
export class ModbusException extends Error {
  override readonly name = 'ModbusException';
  constructor(
    readonly modbusErrorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Modbus exception codes used by the simulator (Modbus Application Protocol V1.1b3 §7). */
export const EXCEPTION = {
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  /** §7 code 0x0B: "Gateway Target Device Failed to Respond": no such unit behind this endpoint. */
  gatewayTargetFailed: 0x0b,
} as const;
