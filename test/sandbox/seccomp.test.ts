/**
 * The seccomp program, run through a small classic-BPF interpreter written here from linux/filter.h (independent
 * of the builder), so the jump offsets are checked for every denied call on both architectures.
 */
import { describe, expect, it } from 'vitest';
import { DENIED_SYSCALLS, seccompProgram } from '../../src/sandbox/seccomp.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const KILL_PROCESS = 0x80000000;
const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 };

/** Runs the filter on seccomp_data { nr, arch } and returns the action. Supports the opcodes a filter like ours uses. */
function evaluate(program: Buffer, nr: number, arch: number): number {
  let accumulator = 0;
  for (let pc = 0; pc < program.length / 8;) {
    const code = program.readUInt16LE(pc * 8);
    const jumpTrue = program.readUInt8(pc * 8 + 2);
    const jumpFalse = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    pc += 1;
    if (code === 0x20) accumulator = k === 0 ? nr : k === 4 ? arch : Number.NaN; // BPF_LD | BPF_W | BPF_ABS
    else if (code === 0x15) pc += accumulator === k ? jumpTrue : jumpFalse; // BPF_JMP | BPF_JEQ | BPF_K
    else if (code === 0x35) pc += accumulator >= k ? jumpTrue : jumpFalse; // BPF_JMP | BPF_JGE | BPF_K
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
      const other = arch === 'x64' ? AUDIT_ARCH.arm64 : AUDIT_ARCH.x64;
      expect(evaluate(program, 0, other)).toBe(KILL_PROCESS);
    });
  }

  it('denies the x32 ABI on x86_64 (its numbers would bypass the list)', () => {
    expect(evaluate(seccompProgram('x64')!, 0x40000000 + 425, AUDIT_ARCH.x64)).toBe(EPERM);
  });

  it('has no program for an architecture without a table', () => {
    expect(seccompProgram('riscv64')).toBeNull();
  });
});
