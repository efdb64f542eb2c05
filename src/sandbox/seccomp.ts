/**
 * A seccomp denylist for the bubblewrap sandbox, as a raw classic-BPF program (bwrap --seccomp FD reads it).
 *
 * Namespaces and dropped capabilities already refuse mount, module loading and the like; this filter removes the
 * kernel attack surface an unprivileged process still reaches and a trainer never needs: io_uring, userfaultfd,
 * perf_event_open, bpf, the key-management calls, ptrace, syslog, and (again, cheaply) the mount and namespace
 * calls, including a clone that asks for a new namespace (a lab running as root runs the command as an unprivileged
 * host uid with no user namespace of its own, where bwrap's --disable-userns cannot stop one). clone3 passes its
 * flags in memory a filter cannot read, so it fails with ENOSYS and glibc falls back to clone, as under Docker's
 * default profile. Other denied calls fail with EPERM, so programs that probe for them (libuv tries io_uring) fall back.
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

const CLONE = { x64: 56, arm64: 220 } as const;
const CLONE3 = { x64: 435, arm64: 435 } as const;
/** CLONE_NEWTIME, NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (linux/sched.h). */
export const CLONE_NAMESPACE_FLAGS = 0x80 | 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const X32_SYSCALL_BIT = 0x40000000;
// Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
const LOAD_WORD_ABSOLUTE = 0x20;
const JUMP_IF_EQUAL = 0x15;
const JUMP_IF_GREATER_OR_EQUAL = 0x35;
const JUMP_IF_ANY_BIT = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const RETURN = 0x06;
const RETURN_ALLOW = 0x7fff0000;
const RETURN_ERRNO_EPERM = 0x00050000 | 1;
const RETURN_ERRNO_ENOSYS = 0x00050000 | 38;
const RETURN_KILL_PROCESS = 0x80000000;
const OFFSET_NR = 0; // struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
const OFFSET_ARCH = 4;
const OFFSET_FIRST_ARGUMENT_LOW = 16; // little-endian: the low 32 bits of args[0] (clone's flags all live there)

/** One instruction with its jumps named by label ('next' falls through); the assembler resolves them to offsets. */
type Instruction = { code: number; k: number; jumpTrue?: string; jumpFalse?: string; label?: string };

function assemble(instructions: Instruction[]): Buffer {
  const labels = new Map<string, number>();
  instructions.forEach((instruction, index) => { if (instruction.label) labels.set(instruction.label, index); });
  const offset = (from: number, label: string | undefined): number => {
    if (!label || label === 'next') return 0;
    const target = labels.get(label);
    if (target === undefined || target <= from || target - from - 1 > 255) throw new Error(`seccomp: bad jump to ${label}`);
    return target - from - 1; // counts instructions after the next one
  };
  const buffer = Buffer.alloc(instructions.length * 8); // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; }
  instructions.forEach((instruction, index) => {
    buffer.writeUInt16LE(instruction.code, index * 8);
    buffer.writeUInt8(offset(index, instruction.jumpTrue), index * 8 + 2);
    buffer.writeUInt8(offset(index, instruction.jumpFalse), index * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return buffer;
}

/** The filter for this machine's architecture, or null where we have no syscall table for it. */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  if (arch !== 'x64' && arch !== 'arm64') return null;
  const program: Instruction[] = [
    { code: LOAD_WORD_ABSOLUTE, k: OFFSET_ARCH },
    { code: JUMP_IF_EQUAL, k: AUDIT_ARCH[arch], jumpTrue: 'next', jumpFalse: 'kill' },
    { code: LOAD_WORD_ABSOLUTE, k: OFFSET_NR },
  ];
  if (arch === 'x64') program.push({ code: JUMP_IF_GREATER_OR_EQUAL, k: X32_SYSCALL_BIT, jumpTrue: 'deny' });
  for (const entry of Object.values(DENIED)) program.push({ code: JUMP_IF_EQUAL, k: entry[arch], jumpTrue: 'deny' });
  program.push({ code: JUMP_IF_EQUAL, k: CLONE3[arch], jumpTrue: 'no-such-call' });
  program.push({ code: JUMP_IF_EQUAL, k: CLONE[arch], jumpFalse: 'allow' });
  program.push({ code: LOAD_WORD_ABSOLUTE, k: OFFSET_FIRST_ARGUMENT_LOW });
  program.push({ code: JUMP_IF_ANY_BIT, k: CLONE_NAMESPACE_FLAGS, jumpTrue: 'deny' });
  program.push({ code: RETURN, k: RETURN_ALLOW, label: 'allow' });
  program.push({ code: RETURN, k: RETURN_ERRNO_EPERM, label: 'deny' });
  program.push({ code: RETURN, k: RETURN_ERRNO_ENOSYS, label: 'no-such-call' });
  program.push({ code: RETURN, k: RETURN_KILL_PROCESS, label: 'kill' });
  return assemble(program);
}
