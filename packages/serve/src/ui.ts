// The web demo's files (packages/serve/ui/: index.html, app.js, style.css) at GET / and
// GET /ui/<file>. The folder is found from this file's own place (src/ or dist/ are both one level
// under the package), so it works from a build and from an installed package alike.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ApiError } from './api-error';

/** Where the page's files are. */
export const UI_DIR = path.resolve(__dirname, '..', 'ui');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

function file(name: string, dir: string): { body: Buffer; type: string } {
  // Plain names only: no folders, so nothing outside the ui folder can be asked for.
  const ext = path.extname(name);
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name) || !TYPES[ext])
    throw new ApiError(404, `/ui/${name}: no such file of the web demo`, { code: 'not_found' });
  const at = path.join(dir, name);
  if (!fs.existsSync(at)) {
    const missing = name === 'index.html' ? `the web demo is not installed: ${at} is missing` : `/ui/${name}: no such file of the web demo`;
    throw new ApiError(404, missing, { code: 'not_found' });
  }
  return { body: fs.readFileSync(at), type: TYPES[ext]! };
}

/** Adds the page's routes. */
export function registerUi(app: FastifyInstance, dir = UI_DIR): void {
  app.get('/', async (_request, reply) => {
    const f = file('index.html', dir);
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
  app.get<{ Params: { file: string } }>('/ui/:file', async (request, reply) => {
    const f = file(request.params.file, dir);
    return reply.type(f.type).header('cache-control', 'no-cache').send(f.body);
  });
}
