/** The list of commands. Adding a command: one file in src/cli/ exporting `register`, one line here. */
import type { Command } from 'commander';
import { register as audit } from './audit.js';

type Register = (program: Command) => void;

const commands: Register[] = [audit];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
