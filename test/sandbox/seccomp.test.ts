/**
 * The seccomp program, run through a small classic-BPF interpreter written here from linux/filter.h (independent
 * of the builder), so the jump offsets are checked for every denied call on both architectures.
 */
import { describe, expect, it } from 'vitest';
import { DENIED_SYSCALLS, seccompProgram } from '../../src/sandbox/seccomp.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL_PROCESS = 0x80000000;
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 };

/**
 * Runs the filter on seccomp_data { nr, arch, args[0] } and returns the action. Supports the opcodes a filter like
 * ours uses. `firstArgument` is the low 32 bits of args[0] (offset 16, little-endian).
 */
function evaluate(program: Buffer, nr: number, arch: number, firstArgument = 0): number {
  let accumulator = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jumpTrue = program.readUInt8(pc * 8 + 2);
    const jumpFalse = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc += 1;
    if (code === 0x20) accumulator = k === 0 ? nr : k === 4 ? arch : k === 16 ? firstArgument : Number.NaN; // BPF_LD | BPF_W | BPF_ABS
    else if (code === 0x15) pc += accumulator === k ? jumpTrue : jumpFalse; // BPF_JMP | BPF_JEQ | BPF_K
    else if (code === 0x35) pc += accumulator >= k ? jumpTrue : jumpFalse; // BPF_JMP | BPF_JGE | BPF_K
    else if (code === 0x45) pc += (accumulator & k) !== 0 ? jumpTrue : jumpFalse; // BPF_JMP | BPF_JSET | BPF_K
    else if (code === 0x06) return k; // BPF_RET | BPF_K
    else throw new Error(`unexpected opcode ${code}`);
  }
  throw new Error('fell off the end of the program');
}

describe('seccomp program', () => {
  // From asm/unistd_64.h and asm-generic/unistd.h: a few denied and a few everyday calls per architecture.
  const tables = {
    x64: { denied: { io_uring_setup: 425, userfaultfd: 323, keyctl: 250, ptrace: 101, setns: 308 }, allowed: { read: 0, write: 1, openat: 257, clone: 56, mmap: 9, futex: 202 } },
    arm64: { denied: { io_uring_setup: 425, userfaultfd: 282, keyctl: 219, ptrace: 117, setns: 268 }, allowed: { read: 63, write: 64, openat: 56, clone: 220, mmap: 222, futex: 98 } },
  } as const;

  for (const arch of ['x64', 'arm64'] as const) {
    it(`on ${arch}: denies the listed calls with EPERM, allows everyday ones, kills a foreign architecture`, () => {
      const program = seccompProgram(arch)!;
      for (const nr of Object.values(tables[arch].denied)) expect(evaluate(program, nr, AUDIT_ARCH[arch])).toBe(EPERM);
      for (const nr of Object.values(tables[arch].allowed)) expect(evaluate(program, nr, AUDIT_ARCH[arch])).toBe(ALLOW);
      const denied = Array.from({ length: 512 }, (_, nr) => nr).filter((nr) => evaluate(program, nr, AUDIT_ARCH[arch]) === EPERM);
      expect(denied.length).toBe(DENIED_SYSCALLS.length);
      expect(Array.from({ length: 512 }, (_, nr) => nr).filter((nr) => evaluate(program, nr, AUDIT_ARCH[arch]) === ENOSYS)).toEqual([435]); // clone3 only
      const other = arch === 'x64' ? AUDIT_ARCH.arm64 : AUDIT_ARCH.x64;
      expect(evaluate(program, 0, other)).toBe(KILL_PROCESS);
    });
  }

  // linux/sched.h: what fork and pthread_create pass, and each namespace flag.
  const SIGCHLD = 17;
  const THREAD_FLAGS = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x80000 | 0x100000 | 0x200000 | 0x1000000; // VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID
  const NAMESPACES = { NEWTIME: 0x80, NEWNS: 0x20000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000 };
  for (const arch of ['x64', 'arm64'] as const) {
    it(`on ${arch}: lets clone make processes and threads, refuses any clone that makes a namespace, and sends clone3 to clone`, () => {
      const program = seccompProgram(arch)!;
      const clone = arch === 'x64' ? 56 : 220;
      expect(evaluate(program, clone, AUDIT_ARCH[arch], SIGCHLD)).toBe(ALLOW);
      expect(evaluate(program, clone, AUDIT_ARCH[arch], THREAD_FLAGS)).toBe(ALLOW);
      for (const flag of Object.values(NAMESPACES)) {
        expect(evaluate(program, clone, AUDIT_ARCH[arch], flag | SIGCHLD)).toBe(EPERM);
        expect(evaluate(program, clone, AUDIT_ARCH[arch], flag | THREAD_FLAGS)).toBe(EPERM);
      }
      expect(evaluate(program, 435, AUDIT_ARCH[arch], SIGCHLD)).toBe(ENOSYS);
    });
  }

  it('denies the x32 ABI on x86_64 (its numbers would bypass the list)', () => {
    expect(evaluate(seccompProgram('x64')!, 0x40000000 + 425, AUDIT_ARCH.x64)).toBe(EPERM);
  });

  it('has no program for an architecture without a table', () => {
    expect(seccompProgram('riscv64')).toBeNull();
  });
});
