/** `successor ui`: serves the live dashboard over an existing journal until interrupted (read-mostly: see src/ui/server.ts). */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { journalPath, stateDir } from '../journal/paths.js';
import { isLoopbackHost } from '../ui/security.js';
import { UsageError, action, parseNumber, printResult } from './common.js';
import { openExistingJournal } from './lab-state.js';

interface UiFlags { port: string; host: string; token?: string; json?: boolean }

export function register(program: Command): void {
  program
    .command('ui')
    .description('serve the dashboard: watch, compare and steer runs in the browser (approve, reject and stop are its only writes)')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '4173')
    .option('--host <address>', 'address to bind; anything but loopback needs a token', '127.0.0.1')
    .option('--token <text>', 'access token (default off loopback: a random one, printed in the URL)')
    .option('--json', 'print { url, port, journal } as one JSON object once listening')
    .action(
      action(async (flags: UiFlags) => {
        const port = parseNumber('port', flags.port, { min: 0, max: 65535, integer: true });
        if (flags.token !== undefined && flags.token.length < 16) throw new UsageError('--token must be at least 16 characters');
        const token = flags.token ?? (isLoopbackHost(flags.host) ? null : randomBytes(18).toString('base64url'));
        // Read-only: the dashboard never creates a journal (nor adds its tables to someone else's file); checking
        // the file here turns a missing, foreign or damaged one into one line and exit 2 before anything listens.
        const path = journalPath();
        openExistingJournal().close();
        // Imported here: the server and its libraries are only needed by this command.
        const { serveDashboard } = await import('../ui/server.js');
        const server = await serveDashboard({ journalPath: path, stateDir: stateDir(), host: flags.host, port, token });
        printResult({ url: server.url, port: server.port, journal: path }, flags.json === true);
        process.stderr.write('dashboard running; Ctrl-C stops it\n');
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            resolve();
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await server.close();
      }),
    );
}
