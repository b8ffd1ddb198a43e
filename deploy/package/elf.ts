/**
 * Reads the identification of an ELF file (a native addon `.node`, an executable such as esbuild's),
 * enough to tell which CPU it was built for. Pure: takes the first bytes of a file.
 *
 * Layout from the System V ABI, "ELF Header" (e_ident[EI_CLASS] at byte 4, EI_DATA at byte 5,
 * e_machine, a half-word in the file's byte order, at byte 18).
 */

/** e_machine values of the CPUs fieldgate packages for (System V ABI / elf.h). */
export const EM = { ARM: 40, X86_64: 62, AARCH64: 183 } as const;

/** Names of e_machine values, for messages. */
const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'x86 (i386)',
  [EM.ARM]: 'ARM',
  [EM.X86_64]: 'x86-64',
  [EM.AARCH64]: 'ARM aarch64',
  243: 'RISC-V',
};

/** What the header says: word size (32/64 bits), byte order and CPU. */
export interface ElfIdent {
  readonly bits: 32 | 64;
  readonly littleEndian: boolean;
  readonly machine: number;
}

/** Bytes needed by {@link readElfIdent}. */
export const ELF_IDENT_BYTES = 20;

/**
 * The ELF identification of a file from its first {@link ELF_IDENT_BYTES} bytes, or `undefined`
 * when the bytes are not an ELF header (a script, a JS file, a Mach-O or PE binary).
 */
export function readElfIdent(head: Uint8Array): ElfIdent | undefined {
  if (head.length < ELF_IDENT_BYTES) return undefined;
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return undefined; // "\x7fELF"
  const cls = head[4]; // EI_CLASS: 1 = ELFCLASS32, 2 = ELFCLASS64
  const data = head[5]; // EI_DATA: 1 = ELFDATA2LSB, 2 = ELFDATA2MSB
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2)) return undefined;
  const lo = head[18] ?? 0;
  const hi = head[19] ?? 0;
  return { bits: cls === 1 ? 32 : 64, littleEndian: data === 1, machine: data === 1 ? lo | (hi << 8) : (lo << 8) | hi };
}

/** A person's name for an e_machine value, e.g. `x86-64`. */
export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `e_machine ${machine}`;
}
