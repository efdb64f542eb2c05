/**
 * The newcomer's way in: the package is private (so `npx successor` outside a clone can never be taken for it and
 * `npm publish` refuses it), its `successor` bin is this CLI, and every `successor` command in the README's first
 * hour and CLI tour exists with the flags it is shown with (each command's own --help, through the real CLI).
 * Whether the commands do what the README says is the other CLI tests'.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, removeTemporaryDirs, runCli, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

const PARENTS = new Set(['audit', 'task']); // commands whose first argument is a subcommand

/** `successor ...` lines of the README's sh blocks in a section, without comments; `a | b` lines give each part. */
function snippets(section: string): string[][] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`## ${section}\n`);
  const body = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const blocks = [...body.matchAll(/```sh\n([^]*?)```/g)].map((match) => match[1]);
  return blocks.flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim().replace(/^npx /, ''))
    .filter((line) => line.startsWith('successor '))
    .flatMap((line) => line.split(' | ').map((part) => part.replace(/^successor /, '').split(/\s+/)))
    .filter((words) => words.length > 0 && /^[a-z]/.test(words[0]));
}

describe('installing and the README\'s commands', () => {
  it('is a private package whose successor bin is this CLI', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(manifest.private).toBe(true);
    expect(manifest.bin).toEqual({ successor: 'bin/successor.js' });
    expect(statSync(join(ROOT, 'bin/successor.js')).mode & 0o111).not.toBe(0); // npm link makes it a command
  });

  it('has every command and flag the first hour and the tour show', { timeout: 300_000 }, () => {
    const commands = [...snippets('The first hour'), ...snippets('A tour of the CLI')];
    expect(commands.length).toBeGreaterThan(20);
    const home = temporaryDir();
    const helps = new Map<string, string>();
    for (const words of commands) {
      const command = PARENTS.has(words[0]) && words[1] && /^[a-z]/.test(words[1]) ? words.slice(0, 2) : words.slice(0, 1);
      const key = command.join(' ');
      if (!helps.has(key)) {
        const result = runCli([...command, '--help'], home);
        expect(result.code, `successor ${key} --help: ${result.stderr}`).toBe(0);
        helps.set(key, result.stdout);
      }
      for (const flag of words.filter((word) => word.startsWith('--'))) {
        expect(helps.get(key), `successor ${words.join(' ')}: ${flag}`).toContain(flag.split('=')[0]);
      }
    }
  });
});
