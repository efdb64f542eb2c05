/**
 * The `successor` command line: the composition root for the CLI. Each command lives in its own file
 * and exports `register(program)`; this file only wires them together.
 */
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { loadEnvFile } from './env-file.js';

// API keys from ./.env, for this process only (never a sandbox's environment: the harness builds its own).
loadEnvFile();

const program = new Command()
  .name('successor')
  .description('An autonomous AI R&D lab: researchers improve how a GPT is trained; the lab proves which gains are real.')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride((error) => {
    // Commander's own usage errors (unknown option, missing argument) exit 2; --help and --version exit 0.
    process.exit(error.exitCode === 0 ? 0 : 2);
  });

registerCommands(program);
await program.parseAsync(process.argv);
