/**
 * The page and its files: `src/ui/public/*` (plain ES modules and CSS, no build step) and the browser builds of the
 * chart and diff libraries, served straight from node_modules through an explicit list (never a path from the
 * request), so nothing else under node_modules or the repository is reachable.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

const VENDOR: Record<string, string> = {
  'uplot.js': join(packageDir('uplot'), 'dist', 'uPlot.esm.js'),
  'uplot.css': join(packageDir('uplot'), 'dist', 'uPlot.min.css'),
  'diff2html.js': join(packageDir('diff2html'), 'bundles', 'js', 'diff2html.min.js'),
  'diff2html.css': join(packageDir('diff2html'), 'bundles', 'css', 'diff2html.min.css'),
};

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', html: 'text/html; charset=utf-8', svg: 'image/svg+xml',
};

const typeOf = (file: string): string => TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream';

export function assetRoutes(): Hono {
  const app = new Hono();
  const files = new Map<string, Buffer>();
  // Read once: the files do not change while the server runs.
  const read = (path: string): Buffer => {
    let content = files.get(path);
    if (!content) {
      content = readFileSync(path);
      files.set(path, content);
    }
    return content;
  };
  const send = (path: string, type: string) => new Response(new Uint8Array(read(path)), {
    headers: { 'content-type': type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
  });

  app.get('/', () => send(join(publicDir, 'index.html'), TYPES.html));
  app.get('/app/:file{[a-z0-9-]+\\.(js|css|svg)}', (context) => {
    const file = context.req.param('file');
    try {
      return send(join(publicDir, file), typeOf(file));
    } catch {
      return context.text('not found', 404);
    }
  });
  app.get('/vendor/:file', (context) => {
    const path = VENDOR[context.req.param('file')];
    return path ? send(path, typeOf(path)) : context.text('not found', 404);
  });
  return app;
}
