/** The list of commands. Adding a command: one file in src/cli/ exporting `register`, one line here. */
import type { Command } from 'commander';
import { register as adopt } from './adopt.js';
import { register as control } from './approve.js';
import { register as audit } from './audit.js';
import { register as bench } from './bench.js';
import { register as diff } from './diff.js';
import { register as doctor } from './doctor.js';
import { register as runs } from './runs.js';
import { register as show } from './show.js';
import { register as task } from './task.js';
import { register as evaluate } from './eval.js';
import { register as horizon } from './horizon.js';
import { register as mcp } from './mcp.js';
import { register as research } from './research.js';
import { register as sample } from './sample.js';
import { register as train } from './train.js';
import { register as trend } from './trend.js';
import { register as ui } from './ui.js';
import { register as worker } from './worker.js';

type Register = (program: Command) => void;

const commands: Register[] = [doctor, research, task, runs, show, diff, adopt, control, audit, train, evaluate, sample, horizon, trend, worker, ui, bench, mcp];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
