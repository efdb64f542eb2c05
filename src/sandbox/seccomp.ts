/**
 * A seccomp denylist for the bubblewrap sandbox, as a raw classic-BPF program (bwrap --seccomp FD reads it).
 *
 * Namespaces and dropped capabilities already refuse mount, module loading and the like; this filter removes the
 * kernel attack surface an unprivileged process still reaches and a trainer never needs: io_uring, userfaultfd,
 * perf_event_open, bpf, the key-management calls, ptrace, syslog, and (again, cheaply) the mount and namespace
 * calls. Denied calls fail with EPERM, so programs that probe for them (libuv tries io_uring) fall back.
 * A foreign architecture (or the x32 ABI on x86_64) is killed: its syscall numbers would slip past the list.
 * Not an allowlist like Docker's default profile: that is a larger, tested artefact than this file should be.
 * Numbers come from asm/unistd_64.h (x86_64) and asm-generic/unistd.h (aarch64).
 */

const DENIED: Record<string, { x64: number; arm64: number }> = {
  io_uring_setup: { x64: 425, arm64: 425 },
  io_uring_enter: { x64: 426, arm64: 426 },
  io_uring_register: { x64: 427, arm64: 427 },
  userfaultfd: { x64: 323, arm64: 282 },
  perf_event_open: { x64: 298, arm64: 241 },
  bpf: { x64: 321, arm64: 280 },
  keyctl: { x64: 250, arm64: 219 },
  add_key: { x64: 248, arm64: 217 },
  request_key: { x64: 249, arm64: 218 },
  ptrace: { x64: 101, arm64: 117 },
  syslog: { x64: 103, arm64: 116 },
  kexec_load: { x64: 246, arm64: 104 },
  kexec_file_load: { x64: 320, arm64: 294 },
  init_module: { x64: 175, arm64: 105 },
  finit_module: { x64: 313, arm64: 273 },
  delete_module: { x64: 176, arm64: 106 },
  mount: { x64: 165, arm64: 40 },
  umount2: { x64: 166, arm64: 39 },
  pivot_root: { x64: 155, arm64: 41 },
  open_tree: { x64: 428, arm64: 428 },
  move_mount: { x64: 429, arm64: 429 },
  fsopen: { x64: 430, arm64: 430 },
  fsconfig: { x64: 431, arm64: 431 },
  fsmount: { x64: 432, arm64: 432 },
  fspick: { x64: 433, arm64: 433 },
  unshare: { x64: 272, arm64: 97 },
  setns: { x64: 308, arm64: 268 },
};
export const DENIED_SYSCALLS = Object.keys(DENIED);

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const X32_SYSCALL_BIT = 0x40000000;
// Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const LOAD_WORD_ABSOLUTE = 0x20;
const JUMP_IF_EQUAL = 0x15;
const JUMP_IF_GREATER_OR_EQUAL = 0x35;
const RETURN = 0x06;
const RETURN_ALLOW = 0x7fff0000;
const RETURN_ERRNO_EPERM = 0x00050000 | 1;
const RETURN_KILL_PROCESS = 0x80000000;
const OFFSET_NR = 0; // struct seccomp_data { int nr; __u32 arch; ... }
const OFFSET_ARCH = 4;

/** The filter for this machine's architecture, or null where we have no syscall table for it. */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  if (arch !== 'x64' && arch !== 'arm64') return null;
  const numbers = Object.values(DENIED).map((entry) => entry[arch]);
  // Layout: [0] load arch, [1] check arch, [2] load nr, [3] x32 check?, then one jump per number, then
  // allow, deny, kill. Jump offsets count instructions after the next one.
  type Instruction = [code: number, jumpTrue: number, jumpFalse: number, k: number];
  const program: Instruction[] = [];
  const checks = numbers.length + (arch === 'x64' ? 1 : 0);
  program.push([LOAD_WORD_ABSOLUTE, 0, 0, OFFSET_ARCH]);
  program.push([JUMP_IF_EQUAL, 0, checks + 3, AUDIT_ARCH[arch]]); // mismatch -> kill
  program.push([LOAD_WORD_ABSOLUTE, 0, 0, OFFSET_NR]);
  let remaining = checks; // instructions from the one after this check to `allow`, exclusive
  if (arch === 'x64') program.push([JUMP_IF_GREATER_OR_EQUAL, --remaining + 1, 0, X32_SYSCALL_BIT]);
  for (const number of numbers) program.push([JUMP_IF_EQUAL, --remaining + 1, 0, number]);
  program.push([RETURN, 0, 0, RETURN_ALLOW]);
  program.push([RETURN, 0, 0, RETURN_ERRNO_EPERM]);
  program.push([RETURN, 0, 0, RETURN_KILL_PROCESS]);

  const buffer = Buffer.alloc(program.length * 8); // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
  program.forEach(([code, jumpTrue, jumpFalse, k], index) => {
    buffer.writeUInt16LE(code, index * 8);
    buffer.writeUInt8(jumpTrue, index * 8 + 2);
    buffer.writeUInt8(jumpFalse, index * 8 + 3);
    buffer.writeUInt32LE(k, index * 8 + 4);
  });
  return buffer;
}
