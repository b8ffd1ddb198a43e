/**
 * The modbus-serial service vector shared by every server of one endpoint: it routes each call by
 * unit id to the simulated device. A unit id with no device gets exception 0x0B (gateway target
 * failed to respond); serial endpoints drop that reply, as no slave on a bus would answer.
 */
import type { IServiceVector } from 'modbus-serial';
import type { ModbusSimDevice } from './device.ts';
import { EXCEPTION, ModbusException } from './faults.ts';

/**
 * Builds the vector. Getters use the synchronous form (two or three parameters: modbus-serial
 * picks the calling convention from `fn.length`), and the multi-register getters so that one
 * FC3/FC4 request is one call (one fault decision, one consistent snapshot).
 */
export function createVector(devices: ReadonlyMap<number, ModbusSimDevice>): IServiceVector {
  const dev = (unitID: number): ModbusSimDevice => {
    const d = devices.get(unitID);
    if (d === undefined) throw new ModbusException(EXCEPTION.gatewayTargetFailed, `no device with unit id ${unitID}`);
    return d;
  };
  return {
    getCoil: (addr: number, unitID: number) => dev(unitID).readBits('coil', addr, 1)[0]!,
    getDiscreteInput: (addr: number, unitID: number) => dev(unitID).readBits('discrete', addr, 1)[0]!,
    getHoldingRegister: (addr: number, unitID: number) => dev(unitID).readRegisters('holding', addr, 1)[0]!,
    getInputRegister: (addr: number, unitID: number) => dev(unitID).readRegisters('input', addr, 1)[0]!,
    getMultipleHoldingRegisters: (addr: number, length: number, unitID: number) => dev(unitID).readRegisters('holding', addr, length),
    getMultipleInputRegisters: (addr: number, length: number, unitID: number) => dev(unitID).readRegisters('input', addr, length),
    setCoil: (addr: number, value: boolean, unitID: number) => dev(unitID).writeCoils(addr, [value]),
    setRegister: (addr: number, value: number, unitID: number) => dev(unitID).writeRegisters(addr, [value]),
    setRegisterArray: (addr: number, values: number[], unitID: number) => dev(unitID).writeRegisters(addr, values),
  };
}
