/**
 * The dashboard server: a Hono app over the journal (JSON under /api, server-sent events per run, the page and
 * its libraries) and its Node listener. Read-mostly: approve, reject and stop are its only writes, through
 * src/lab/control.ts as the CLI's. Bound to 127.0.0.1 unless told otherwise; any other address needs a token.
 * Not the command line (src/cli/ui.ts) and not what the pages draw (public/).
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { BadInputError } from '../task/errors.js';
import { EventHub } from './event-hub.js';
import { LabAccess } from './lab-access.js';
import { assetRoutes } from './routes/assets.js';
import { benchRoutes } from './routes/bench.js';
import { eventRoutes } from './routes/events.js';
import { experimentRoutes } from './routes/experiments.js';
import { runRoutes } from './routes/runs.js';
import { guard, isLoopbackHost } from './security.js';

export interface DashboardOptions {
  journalPath: string;
  stateDir: string;
  /** Required unless the server is bound to loopback; null means none. */
  token: string | null;
  /** How often live runs are polled for changes. */
  pollIntervalMs?: number;
}

export interface Dashboard {
  app: Hono;
  access: LabAccess;
  hub: EventHub;
  close(): void;
}

export function createDashboard(options: DashboardOptions): Dashboard {
  const access = new LabAccess(options.journalPath, options.stateDir);
  const hub = new EventHub(access, options.pollIntervalMs);
  const app = new Hono();
  app.use('*', guard({ token: options.token }));
  app.route('/', runRoutes(access));
  app.route('/', experimentRoutes(access));
  app.route('/', eventRoutes(access, hub));
  app.route('/', benchRoutes(access));
  app.route('/', assetRoutes());
  app.onError((error, context) => context.json({ error: `internal error: ${error.message}` }, 500));
  return { app, access, hub, close: () => { hub.close(); access.close(); } };
}

export interface RunningDashboard { url: string; port: number; close(): Promise<void> }

export class DashboardConfigError extends BadInputError {
  override name = 'DashboardConfigError';
}

/** Serves the dashboard; port 0 picks a free one. */
export async function serveDashboard(options: DashboardOptions & { host: string; port: number }): Promise<RunningDashboard> {
  if (!isLoopbackHost(options.host) && !options.token) throw new DashboardConfigError(`--host ${options.host} is not loopback: a --token is required`);
  const dashboard = createDashboard(options);
  const server: ServerType = await new Promise((resolve, reject) => {
    const started = serve({ fetch: dashboard.app.fetch, hostname: options.host, port: options.port }, () => resolve(started));
    started.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${hostInUrl}:${port}/${options.token ? `?token=${encodeURIComponent(options.token)}` : ''}`;
  return {
    url,
    port,
    close: () => new Promise<void>((resolve) => {
      dashboard.close();
      // Event streams stay open until their clients leave; closing them is what lets the server stop.
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}
