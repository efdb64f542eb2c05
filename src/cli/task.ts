/**
 * `successor task list | init NAME DIR | new DIR | check DIR`: browse the built-in tasks, copy one to edit, start
 * one around your own code (task-new.ts), and validate a task: what it will see of this machine (its declared
 * mounts, variables and devices), then its baseline run a few times to show its score and noise.
 */
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { stateDir } from '../journal/paths.js';
import { listBuiltinTasks, loadTask } from '../task/loader.js';
import { isScored } from '../task/outcome.js';
import { defaultAssignment } from '../task/space.js';
import { UsageError, action, formatNumber, parseNumber, printResult } from './common.js';
import { SANDBOX_FLAG, createExecutor, parseSandboxMode } from './compose.js';
import { describeEnvironment } from './task-environment.js';
import { registerTaskNew } from './task-new.js';

export function register(program: Command): void {
  const task = program.command('task').description('list, copy and check tasks');

  task
    .command('list')
    .description('the built-in tasks')
    .option('--json', 'print an array')
    .action(
      action((flags: { json?: boolean }) => {
        const tasks = listBuiltinTasks().map((entry) => ({
          name: entry.file.name, version: entry.file.version, title: entry.file.title, metric: entry.file.metric.name,
          direction: entry.file.metric.direction, humanMinutes: entry.file.human?.minutes ?? null, knobs: Object.keys(entry.file.space).length,
        }));
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(tasks)}\n`);
          return;
        }
        for (const entry of tasks) {
          process.stdout.write(`${entry.name.padEnd(24)} ${entry.title}\n${''.padEnd(24)} metric: ${entry.metric} (${entry.direction}), ${entry.knobs} knobs, human ${entry.humanMinutes ?? '?'} min\n`);
        }
      }),
    );

  task
    .command('init')
    .description('copy a built-in task into a folder to edit (paths outside the task folder are copied in)')
    .argument('<name>', 'built-in task name')
    .argument('<dir>', 'an empty or missing folder')
    .option('--json', 'print {task, dir}')
    .action(
      action((name: string, dir: string, flags: { json?: boolean }) => {
        const source = loadTask(name);
        if (!source.builtin) throw new UsageError(`'${name}' is not a built-in task (see \`successor task list\`)`);
        const destination = resolve(dir);
        if (existsSync(destination) && readdirSync(destination).length > 0) throw new UsageError(`${destination} is not empty`);
        cpSync(source.dir, destination, { recursive: true });
        // Tasks may share folders with a sibling (../lm-speedrun/workspace): copy those in and point at the copies.
        const file = structuredClone(source.file);
        const localise = (path: string, absolute: string, name: string): string => {
          if (!relative(source.dir, absolute).startsWith('..')) return path;
          cpSync(absolute, join(destination, name), { recursive: true });
          return name;
        };
        file.workspace.dir = localise(file.workspace.dir, source.workspaceDir, 'workspace');
        file.harness.dir = localise(file.harness.dir, source.harnessDir, 'harness');
        file.instructions = localise(file.instructions, resolve(source.dir, file.instructions), 'instructions.md');
        writeFileSync(join(destination, 'task.json'), `${JSON.stringify(file, null, 2)}\n`);
        // Harness scripts are ES modules; outside this project nothing else says so.
        if (!existsSync(join(destination, 'package.json'))) writeFileSync(join(destination, 'package.json'), `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
        loadTask(destination);
        printResult({ task: file.name, dir: destination }, flags.json === true);
      }),
    );

  registerTaskNew(task);

  task
    .command('check')
    .description("validate a task and run its baseline a few times: score and noise")
    .argument('<task>', 'task folder or built-in name')
    .option('--repeats <n>', 'baseline runs', '3')
    .option(...SANDBOX_FLAG)
    .option('--json', 'print one JSON object')
    .action(
      action(async (name: string, flags: { repeats: string; sandbox: string; json?: boolean }) => {
        const loaded = loadTask(name);
        const repeats = parseNumber('repeats', flags.repeats, { min: 1, max: 50, integer: true });
        const environment = describeEnvironment(loaded, stateDir());
        if (!flags.json) process.stderr.write(environment.lines.join('\n') + '\n');
        const executor = await createExecutor('local', parseSandboxMode(flags.sandbox));
        const scores: number[] = [];
        const runs: Array<Record<string, unknown>> = [];
        try {
          for (let index = 0; index < repeats; index++) {
            const result = await executor.run(
              {
                runId: 'check', experimentId: `check-${process.pid}-${index}`, taskDir: loaded.dir, taskName: loaded.file.name, taskVersion: loaded.file.version,
                lineage: { assignment: defaultAssignment(loaded.file.space), edits: [] }, capSeconds: loaded.file.run.limits.wallSeconds, seed: index + 1,
              },
              new AbortController().signal,
            );
            const outcome = result.outcome;
            if (isScored(outcome)) scores.push(outcome.score);
            runs.push({ status: outcome.status, score: isScored(outcome) ? outcome.score : null, reason: 'reason' in outcome ? outcome.reason : null, metrics: outcome.metrics });
            process.stderr.write(`baseline run ${index + 1}/${repeats}: ${outcome.status}${isScored(outcome) ? ` ${formatNumber(outcome.score)}` : `: ${'reason' in outcome ? outcome.reason : ''}`}\n`);
          }
        } finally {
          await executor.close();
        }
        const mean = scores.length ? scores.reduce((sum, value) => sum + value, 0) / scores.length : null;
        const standardDeviation = scores.length > 1 && mean !== null ? Math.sqrt(scores.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (scores.length - 1)) : null;
        const result = {
          task: loaded.file.name, version: loaded.file.version, metric: loaded.file.metric.name, params: loaded.file.harness.params,
          runs: runs.length, passed: scores.length, mean, standardDeviation,
          coefficientOfVariation: mean && standardDeviation !== null ? standardDeviation / mean : null, scores,
        };
        if (flags.json) process.stdout.write(`${JSON.stringify({ ...result, environment: environment.summary, details: runs })}\n`);
        else printResult(result, false);
        return scores.length === runs.length ? 0 : 1;
      }),
    );
}
