/**
 * `.env` in the working directory: API keys for the model researchers (OPENAI_API_KEY, ANTHROPIC_API_KEY,
 * GOOGLE_GENERATIVE_AI_API_KEY, ...) without exporting them in the shell. Loaded once when the CLI starts, into the
 * lab process only; a variable already set in the environment wins. Nothing reaches a sandbox from here: the
 * harness builds each run's environment from scratch (src/task/harness.ts), as it does for the shell's variables.
 * Is not: run options (run-config.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

export const ENV_FILE = '.env';

/** The variables `directory/.env` defines (an unreadable one defines none: it is not a command's business). */
export function readEnvFile(directory: string = process.cwd()): Record<string, string> {
  const path = join(directory, ENV_FILE);
  if (!existsSync(path)) return {};
  try {
    return parse(readFileSync(path));
  } catch {
    return {};
  }
}

/** Sets the variables of `directory/.env` that the environment lacks; returns their names (never their values). */
export function loadEnvFile(directory: string = process.cwd(), environment: NodeJS.ProcessEnv = process.env): string[] {
  const values = readEnvFile(directory);
  const loaded: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (environment[name] !== undefined) continue;
    environment[name] = value;
    loaded.push(name);
  }
  return loaded;
}
