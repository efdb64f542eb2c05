/**
 * The lab's state as a user meets it through the real CLI: a file that is not a journal (another program's SQLite
 * database, a damaged one, a newer lab's) is one line and exit 2 for every command, and is never changed; commands
 * that only read leave every file of the lab home byte-identical and create nothing; a command refused for bad input
 * leaves no state behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAuditCheckpoint } from '../../src/journal/audit-checkpoint.js';
import { CLI, ROOT, llmLab, removeTemporaryDirs, runCli, snapshot, temporaryDir } from './fixtures.js';

afterAll(removeTemporaryDirs);

const SLEEPY = join(ROOT, 'test/fixtures/tasks/sleepy');

/** Every command that opens an existing journal, read-only or not. */
const COMMANDS: string[][] = [
  ['runs'], ['runs', '--format', 'tsv'], ['show', 'run_000000000000'], ['show', 'exp_000000000000', '--calls'], ['diff', 'exp_000000000000'],
  ['adopt', 'exp_000000000000', 'adopted'], ['audit', 'verify'], ['audit', 'verify', 'run_000000000000'], ['audit', 'checkpoint'],
  ['audit', 'export', 'run_000000000000', 'exported'], ['approve', 'exp_000000000000'], ['reject', 'exp_000000000000', '--why', 'no'],
  ['stop', 'run_000000000000'], ['ui', '--port', '0'], ['research', '--resume', 'run_000000000000'],
  ['research', '--task', SLEEPY, '--max-experiments', '1', '--sandbox', 'off'],
];

function expectRefusedEverywhere(make: (path: string) => void, message: RegExp, commands = COMMANDS): void {
  const home = temporaryDir();
  const path = join(home, 'successor.db');
  make(path);
  const before = snapshot(home);
  for (const args of commands) {
    const result = runCli(args, home, { environment: { SUCCESSOR_KEY_DIR: join(home, '..', 'keys-unused') } });
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    expect(result.stderr, args.join(' ')).toMatch(message);
    expect(result.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
  }
  expect(snapshot(home)).toEqual(before);
}

describe('a file that is not a journal', () => {
  it('another program\'s SQLite database: one line, exit 2, for every command, and its file untouched', { timeout: 600_000 }, () => {
    expectRefusedEverywhere((path) => {
      const db = new Database(path);
      db.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
      db.close();
    }, /is an SQLite database but not a successor journal \(its tables: notes\)/);
  });

  it('a file that is not SQLite at all, and one with damaged pages: one line, exit 2', { timeout: 600_000 }, () => {
    const some = COMMANDS.filter(([command, first]) => ['runs', 'show', 'ui', 'approve'].includes(command) || (command === 'audit' && first === 'verify') || command === 'research');
    expectRefusedEverywhere((path) => writeFileSync(path, 'my notes, not a database; '.repeat(40)), /is not a successor journal: file is not a database/, some);
    const home = temporaryDir();
    const lab = llmLab(home);
    lab.journal.close();
    const db = new Database(join(home, 'successor.db'));
    const pages = (db.pragma('page_count', { simple: true }) as number);
    db.close();
    // Overwrite the start of every page but the first (the header): every table's b-tree is damaged.
    const file = join(home, 'successor.db');
    const bytes = readFileSync(file);
    for (let page = 1; page < pages; page++) bytes.fill(0xff, page * 4096, page * 4096 + 100);
    writeFileSync(file, bytes);
    for (const args of [['runs'], ['show', lab.runId], ['audit', 'verify']]) {
      const result = runCli(args, home);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^successor: the journal at .* is damaged: database disk image is malformed\n$/);
    }
  });

  it('a journal of a newer lab: one line, exit 2, never migrated down', () => {
    const home = temporaryDir();
    const lab = llmLab(home);
    lab.journal.close();
    const db = new Database(join(home, 'successor.db'));
    db.pragma('user_version = 99');
    db.close();
    const before = snapshot(home);
    for (const args of [['runs'], ['approve', lab.proposedId]]) {
      const result = runCli(args, home);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/has schema version 99; this successor knows only up to \d+ \(a newer successor wrote it\)\n$/);
    }
    expect(snapshot(home)).toEqual(before);
  });
});

describe('commands that only read', () => {
  it('leave every file of the lab home byte-identical and create none', { timeout: 600_000 }, async () => {
    const home = temporaryDir();
    const keys = temporaryDir();
    const lab = llmLab(home);
    writeAuditCheckpoint(lab.journal, { SUCCESSOR_KEY_DIR: keys });
    lab.journal.close();
    const before = snapshot(home);
    expect(Object.keys(before).sort()).toEqual(['audit-checkpoints.jsonl', 'successor.db']);
    const environment = { SUCCESSOR_KEY_DIR: keys };
    const elsewhere = temporaryDir();
    for (const args of [
      ['runs'], ['runs', '--json'], ['runs', '--format', 'csv'], ['show', lab.runId], ['show', lab.runId, '--json'], ['show', lab.runId, '--format', 'tsv'],
      ['show', lab.proposedId], ['show', lab.proposedId, '--calls'], ['diff', lab.proposedId], ['diff', lab.proposedId, '--against', 'baseline'],
      ['audit', 'verify'], ['audit', 'verify', lab.runId], ['audit', 'export', lab.runId, join(elsewhere, 'proof')],
      ['adopt', lab.proposedId, join(elsewhere, 'adopted')], ['doctor', '--json'],
    ]) {
      const result = runCli(args, home, { environment });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
    // The dashboard: started, asked for its pages, stopped.
    const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--json'], { cwd: home, env: { ...process.env, SUCCESSOR_HOME: home, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).url));
      child.once('exit', (code) => reject(new Error(`ui exited with ${code}`)));
    });
    for (const path of ['api/runs', `api/runs/${lab.runId}`, `api/experiments/${lab.proposedId}`, `api/experiments/${lab.proposedId}/calls`]) {
      expect((await fetch(new URL(path, url))).status, path).toBe(200);
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(snapshot(home)).toEqual(before);
  });

  it('on an empty lab home: one line, exit 2, and no journal created (ui included)', () => {
    const parent = temporaryDir();
    const home = join(parent, 'lab');
    for (const args of [['runs'], ['show', 'run_000000000000'], ['audit', 'verify'], ['ui', '--port', '0']]) {
      const result = runCli(args, home, { cwd: parent });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^successor: no lab state at .*lab\/successor\.db: run `successor research` first/);
    }
    expect(existsSync(home)).toBe(false);
  });
});

describe('a command refused for bad input', () => {
  it('leaves no state behind: no lab home, no journal', { timeout: 300_000 }, () => {
    const parent = temporaryDir();
    const home = join(parent, 'lab');
    mkdirSync(join(parent, 'work'));
    writeFileSync(join(parent, 'work', 'bad.yaml'), 'task: sleepy\nbudget: 20m\n');
    for (const [args, message] of [
      [['research', '--task', 'nope', '--budget', '1m'], /no task 'nope'/],
      [['research', '--task', SLEEPY], /give a budget/],
      [['research', '--task', SLEEPY, '--budget', '1m', '--alpha', '2'], /gate\.alpha/],
      [['research', '--config', 'bad.yaml'], /--config bad\.yaml: invalid run options: \(root\): Unrecognized key: "budget"/],
      [['research', '--task', SLEEPY, '--budget', '1m', '--researcher', 'llm', '--model', 'openai:gpt-5'], /openai needs OPENAI_API_KEY/],
      [['research', '--task', SLEEPY, '--budget', '1m', '--executor', 'redis-please'], /--executor must be local or redis:/],
      [['research', '--resume', 'run_000000000000'], /no lab state/],
    ] as Array<[string[], RegExp]>) {
      const result = runCli(args, home, { cwd: join(parent, 'work'), environment: { OPENAI_API_KEY: undefined } });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(existsSync(home), args.join(' ')).toBe(false);
    }
    expect(readdirSync(join(parent, 'work'))).toEqual(['bad.yaml']);
  });
});
