/**
 * The architectures a BIE process-mode program package is built for. Baetyl picks the file of a
 * program package whose variable name contains the node's architecture, one of darwin-amd64,
 * linux-amd64, linux-arm-v7, linux-arm64-v8, windows-amd64 (BIE "进程程序包", §2.3,
 * https://cloud.baidu.com/doc/BIE/s/ukmn71swr); fieldgate builds the three Linux ones.
 */
import { EM } from './elf.ts';

/** One target: Baetyl's architecture name and what Node and ELF call the same CPU. */
export interface Target {
  /** Baetyl's name, put in the zip's file name. */
  readonly id: 'linux-amd64' | 'linux-arm64-v8' | 'linux-arm-v7';
  /** `process.arch` of a Node running there; also npm's `cpu` and node-gyp-build's prebuild folder suffix. */
  readonly nodeArch: 'x64' | 'arm64' | 'arm';
  /** e_machine and word size every ELF file in the package must have. */
  readonly elfMachine: number;
  readonly elfBits: 32 | 64;
}

/** The targets, in the order `npm run package` builds them. */
export const TARGETS: readonly Target[] = [
  { id: 'linux-amd64', nodeArch: 'x64', elfMachine: EM.X86_64, elfBits: 64 },
  { id: 'linux-arm64-v8', nodeArch: 'arm64', elfMachine: EM.AARCH64, elfBits: 64 },
  { id: 'linux-arm-v7', nodeArch: 'arm', elfMachine: EM.ARM, elfBits: 32 },
];

/** The target by Baetyl's name, or `undefined`. */
export function targetById(id: string): Target | undefined {
  return TARGETS.find((t) => t.id === id);
}

/** The target this machine is, or `undefined` (not Linux, or another CPU). */
export function hostTarget(platform: string = process.platform, arch: string = process.arch): Target | undefined {
  return platform === 'linux' ? TARGETS.find((t) => t.nodeArch === arch) : undefined;
}
