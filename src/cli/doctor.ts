/**
 * `successor doctor`: what this machine has for the lab (bubblewrap and whether it really isolates, cgroups, Redis,
 * Chromium, Python and PyTorch with its BLAS, cores and the trainer's native kernels, how busy the CPUs are, model keys, the lab's state) and what each
 * missing or limited piece costs. Exit 0 whatever it finds (nothing but Node is required: the defaults need no
 * Redis, no key, no GPU); `--json` for scripts. Read-only: it creates no lab state.
 * Is not: the checks themselves (machine-check.ts).
 */
import type { Command } from 'commander';
import { action } from './common.js';
import { type Check, checkMachine } from './machine-check.js';

function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((check) => check.name.length));
  const lines = checks.flatMap((check) => [
    `${check.status.padEnd(8)} ${check.name.padEnd(width)}  ${check.found}`,
    ...(check.cost ? [`${' '.repeat(9 + width)}  costs: ${check.cost}`] : []),
  ]);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check what this machine has for the lab (sandbox, cgroups, native kernels, Redis, Chromium, PyTorch, cores, load) and what each missing piece costs')
    .option('--json', 'print { ready, checks: [{ name, status, found, cost?, details? }] }')
    .action(
      action(async (flags: { json?: boolean }) => {
        const checks = await checkMachine();
        const sandboxed = checks.find((check) => check.name === 'bubblewrap')?.status !== 'missing';
        const ready = checks.find((check) => check.name === 'node')?.status === 'ok';
        if (flags.json) {
          process.stdout.write(`${JSON.stringify({ ready, sandboxed, checks })}\n`);
          return;
        }
        process.stdout.write(formatChecks(checks));
        process.stdout.write(!ready ? 'not ready: see node above\n'
          : sandboxed ? 'ready: `successor research` runs experiments in the sandbox here\n'
          : 'ready, without isolation: experiments would run unsandboxed here (see bubblewrap above)\n');
      }),
    );
}
