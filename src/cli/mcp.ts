/**
 * `successor mcp`: serves the lab over MCP on stdio, so Claude Code, Codex or any MCP client can be the researcher
 * while the lab keeps the clock, the scorer, the gate and the log. The research loop starts at once (the
 * baseline calibrates while the agent reads the task) and stops when the client disconnects or a budget is spent.
 * stdout carries the protocol only; progress goes to stderr.
 */
import type { Command } from 'commander';
import { stateDir } from '../journal/paths.js';
import type { LabEvent } from '../lab/events.js';
import { DEFAULT_GATE, parseRunOptions } from '../lab/options.js';
import { research } from '../lab/start.js';
import type { RunId } from '../task/ids.js';
import { loadTask } from '../task/loader.js';
import { action, parseDurationSeconds, parseNumber } from './common.js';
import { SANDBOX_FLAG, createExecutor, openLabJournal, parseContentionLimit, parseSandboxMode } from './compose.js';

interface McpFlags { task: string; budget?: string; maxExperiments?: string; repeats: string; seed: string; sandbox: string }

export function register(program: Command): void {
  program
    .command('mcp')
    .description('serve the lab to an MCP client on stdio: the client proposes, the lab runs, gates and records')
    .option('--task <name|dir>', 'built-in task name or task folder', 'lm-speedrun')
    .option('--budget <duration>', 'wall-clock budget, e.g. 2h (default: until the client disconnects)')
    .option('--max-experiments <n>', 'candidates the client may run')
    .option('--repeats <n>', 'runs per configuration compared by the gate', String(DEFAULT_GATE.repeats))
    .option('--seed <n>', 'seed of the harness', '1')
    .option(...SANDBOX_FLAG)
    .action(
      action(async (flags: McpFlags) => {
        const contentionLimit = parseContentionLimit(undefined);
        const options = parseRunOptions({
          task: flags.task,
          researcher: 'mcp',
          budgetSeconds: flags.budget ? parseDurationSeconds('budget', flags.budget) : null,
          maxExperiments: flags.maxExperiments ? parseNumber('max-experiments', flags.maxExperiments, { integer: true }) : null,
          seed: parseNumber('seed', flags.seed, { integer: true }),
          gate: { repeats: parseNumber('repeats', flags.repeats, { integer: true }) },
          sandboxMode: parseSandboxMode(flags.sandbox),
          ...(contentionLimit !== undefined ? { contentionLimit } : {}),
        });
        const task = loadTask(options.task);
        const executor = await createExecutor('local', options.sandboxMode); // before the journal: a refusal leaves no state
        const journal = openLabJournal();
        // Imported here: the MCP SDK is only needed by this command.
        const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
        const { McpResearcher } = await import('../mcp/researcher.js');
        const { createLabServer } = await import('../mcp/server.js');
        const researcher = new McpResearcher();
        const listeners = new Set<(event: LabEvent) => void>();
        let runId: RunId | null = null;
        const server = createLabServer({
          journal, task, researcher, version: '0.1.0',
          runId: () => runId,
          subscribe: (listener) => {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        });
        const transport = new StdioServerTransport();
        const disconnected = new Promise<void>((resolve) => {
          server.server.onclose = () => resolve();
          process.stdin.once('end', () => resolve());
        });
        await server.connect(transport);
        const controller = new AbortController();
        const observe = (event: LabEvent) => {
          if (event.type === 'experiment.finished') {
            const outcome = event.experiment.outcome;
            process.stderr.write(`#${event.experiment.seq} ${event.experiment.role} ${event.experiment.description}: ${outcome?.status ?? '?'}\n`);
          }
          for (const listener of listeners) listener(event);
        };
        const loop = research({ journal, executor, researcher, stateDir: stateDir(), signal: controller.signal, observe }, { options, generations: 1 }, (run) => {
          runId = run.id;
          process.stderr.write(`successor mcp: run ${run.id} on task ${run.task}; waiting for the client's experiments\n`);
        }).then(
          (result) => researcher.end(result.runs.at(-1)?.stopReason ?? 'finished'),
          (error: unknown) => {
            researcher.end(`the lab failed: ${(error as Error).message}`);
            process.stderr.write(`successor mcp: the lab failed: ${(error as Error).stack ?? String(error)}\n`);
          },
        );
        await disconnected;
        controller.abort();
        researcher.end('the client disconnected');
        await loop;
        await server.close().catch(() => {});
        await executor.close();
        journal.close();
        return 0;
      }),
    );
}
