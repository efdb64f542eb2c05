/**
 * What `successor task check` shows before it runs anything: what the task's run and harness scripts will see of
 * this machine (the sandbox's defaults, the declared mounts, variables and devices, the programs their commands
 * name), as lines for a person and as one object for --json. Resolving it is environment.ts's: a declaration this
 * machine cannot honour is one line naming the field, here as in a research run.
 */
import { SANDBOX_PATH, resolveEnvironment } from '../task/environment.js';
import { HARNESS_ROLES, describeHarnessScript } from '../task/harness-script.js';
import type { Task } from '../task/loader.js';
import { looksLikeSecret } from '../task/schema.js';

export interface EnvironmentReport {
  lines: string[];
  summary: Record<string, unknown>;
}

export function describeEnvironment(task: Task, stateDir: string): EnvironmentReport {
  const environment = resolveEnvironment(task, stateDir);
  const shown = (name: string, value: string) => (looksLikeSecret(name) ? `${name}=<secret, ${value.length} characters>` : `${name}=${value}`);
  const variables = [
    ...Object.entries(environment.variables).map(([name, value]) => shown(name, value)),
    ...environment.unsetVariables.map((name) => `${name} (not set in the lab's environment: not passed)`),
  ];
  const runMounts = environment.mounts.filter((mount) => !mount.harnessOnly).map((mount) => mount.path);
  const harnessMounts = environment.mounts.filter((mount) => mount.harnessOnly).map((mount) => mount.path);
  const devices = environment.grants.map((grant) => `${grant.declared}: ${grant.nodes.join(' ')}${grant.readOnlyPaths.length ? ` (+ read-only ${grant.readOnlyPaths.join(' ')})` : ''}`);
  const scripts = HARNESS_ROLES.flatMap((role) => {
    const script = task.file.harness[role];
    if (script === undefined) return [];
    return [`${role}: ${describeHarnessScript(script)}${typeof script === 'string' ? ' (TypeScript/JavaScript, the lab\'s loader)' : ''}`];
  });
  const lines = [
    `what ${task.file.name} sees on this machine:`,
    `  run          ${describeHarnessScript(task.file.run.command)}, in a copy of the workspace; no network; a read-only system (/usr, /lib, ...); private /tmp; PATH ${SANDBOX_PATH.slice(1).join(':')}`,
    `  mounts       ${runMounts.length ? `${runMounts.join(' ')} (read-only, the run and the harness)` : 'none'}`,
    ...(harnessMounts.length ? [`  harness only ${harnessMounts.join(' ')} (read-only, never the run)`] : []),
    `  variables    ${variables.length ? variables.join('; ') : 'none besides the lab\'s own (PATH, HOME, TMPDIR, LANG, SUCCESSOR_*)'}`,
    `  devices      ${devices.length ? devices.join('; ') : "none besides the sandbox's /dev (null, zero, random, urandom, tty)"}`,
    `  harness      ${scripts.join('; ')}`,
    ...environment.notes.map((note) => `  note         ${note}`),
  ];
  const summary = {
    mounts: runMounts, harnessMounts, variables: Object.keys(environment.variables), unsetVariables: environment.unsetVariables,
    devices: environment.devices, deviceReadOnlyPaths: environment.grants.flatMap((grant) => grant.readOnlyPaths), notes: environment.notes,
  };
  return { lines, summary };
}
