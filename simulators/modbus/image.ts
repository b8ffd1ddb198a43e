/**
 * The data of one simulated Modbus device: the four tables of the Modbus data model (Modbus
 * Application Protocol V1.1b3 §4.3: discrete inputs, coils, input registers, holding registers),
 * each 65,536 entries. Sparse: only addresses ever written are stored; the rest read as 0/false.
 */
import type { Table } from '../../src/drivers/modbus/address.ts';

/** Register and bit storage of one unit id. */
export class RegisterImage {
  private readonly bits = { coil: new Map<number, boolean>(), discrete: new Map<number, boolean>() };
  private readonly regs = { holding: new Map<number, number>(), input: new Map<number, number>() };

  /** One register of `holding` or `input`. */
  getRegister(table: 'holding' | 'input', address: number): number {
    return this.regs[table].get(address) ?? 0;
  }

  /** `count` registers from `address`. */
  getRegisters(table: 'holding' | 'input', address: number, count: number): number[] {
    const m = this.regs[table];
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = m.get(address + i) ?? 0;
    return out;
  }

  /** Stores registers from `address` (each masked to 16 bits). */
  setRegisters(table: 'holding' | 'input', address: number, values: readonly number[]): void {
    const m = this.regs[table];
    for (let i = 0; i < values.length; i++) m.set(address + i, (values[i] ?? 0) & 0xffff);
  }

  /** One bit of `coil` or `discrete`. */
  getBit(table: 'coil' | 'discrete', address: number): boolean {
    return this.bits[table].get(address) ?? false;
  }

  /** `count` bits from `address`. */
  getBits(table: 'coil' | 'discrete', address: number, count: number): boolean[] {
    const m = this.bits[table];
    const out = new Array<boolean>(count);
    for (let i = 0; i < count; i++) out[i] = m.get(address + i) ?? false;
    return out;
  }

  /** Stores bits from `address`. */
  setBits(table: 'coil' | 'discrete', address: number, values: readonly boolean[]): void {
    const m = this.bits[table];
    for (let i = 0; i < values.length; i++) m.set(address + i, values[i] === true);
  }

  /** Reads `count` entries of any table as numbers (bits as 0/1), for inspection. */
  read(table: Table, address: number, count: number): number[] {
    if (table === 'coil' || table === 'discrete') return this.getBits(table, address, count).map((b) => (b ? 1 : 0));
    return this.getRegisters(table, address, count);
  }
}
