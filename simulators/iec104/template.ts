/**
 * Builds the simulator's point table from Baetyl configuration: the access template's
 * properties (`visitor.iec104`) and a device's `accessConfig.iec104`, with the driver's own IOA
 * rule, so that the simulator serves exactly what the gateway will ask for.
 */
import { iec104AddressSchema, iec104ConnectionSchema, resolveIoa } from '../../src/drivers/iec104/address.ts';
import { TypeId } from '../../src/drivers/iec104/codec/types.ts';
import type { SimPointSpec, SimValue } from './points.ts';

/** One access-template property, as in access_template.yml. */
export interface TemplateProperty {
  readonly name: string;
  readonly id: string;
  readonly type: string;
  readonly visitor: { readonly iec104?: unknown };
}

/**
 * One point per property with an `iec104` visitor: its `typeId`, else M_ME_NC_1 for AI/AO,
 * M_SP_NA_1 for DI/DO and M_IT_NA_1 for PI (what Baetyl's demo driver reads); AO/DO accept
 * commands. `values` gives initial values (or generators) by property name.
 */
export function pointsFromTemplate(
  properties: readonly TemplateProperty[],
  accessConfig: unknown,
  values: Readonly<Record<string, SimValue | Pick<SimPointSpec, 'generator' | 'period' | 'value'>>> = {},
): SimPointSpec[] {
  const conn = iec104ConnectionSchema.parse(accessConfig);
  const out: SimPointSpec[] = [];
  for (const p of properties) {
    if (p.visitor.iec104 === undefined) continue;
    const a = iec104AddressSchema.parse(p.visitor.iec104);
    const kind = a.pointType;
    const type = a.typeId ?? (kind === 'PI' ? TypeId.M_IT_NA_1 : kind === 'DI' || kind === 'DO' ? TypeId.M_SP_NA_1 : TypeId.M_ME_NC_1);
    const v = values[p.name];
    const extra = v === undefined ? {} : typeof v === 'object' ? v : { value: v };
    out.push({ ioa: resolveIoa(a, conn), type, command: a.commandType ?? (kind === 'AO' || kind === 'DO' ? true : false), ...extra });
  }
  return out;
}
