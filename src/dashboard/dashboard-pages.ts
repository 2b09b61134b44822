import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { UiSessions } from './ui-sessions.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Everything the page loads comes from here: no inline script, nothing from the internet. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  // The login URL carries the one-time code: never send it on as a referrer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Where the page's files are: beside this module in `src/` and in `dist/` (copied by scripts/build.mjs). */
export const DASHBOARD_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/ui/style.css"></head><body><main class="notice"><h1>${title}</h1><p>${text}</p></main></body></html>`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(html)),
  });
  res.end(html);
}

/**
 * The dashboard's pages on the control listener: the static files under `/ui/` (read once, served from memory,
 * no auth: they hold no data) and `/ui/login?code=…`, which turns a one-time code into a session cookie.
 */
export class DashboardPages {
  readonly #files = new Map<string, { type: string; body: Buffer }>();
  readonly #sessions: UiSessions;

  constructor(sessions: UiSessions, dir = DASHBOARD_DIR) {
    this.#sessions = sessions;
    for (const name of readdirSync(dir)) {
      const type = TYPES[path.extname(name)];
      if (type) this.#files.set(name, { type, body: readFileSync(path.join(dir, name)) });
    }
  }

  /** Answers `GET /ui…`; returns false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (pathname === '/ui') {
      res.writeHead(308, { location: '/ui/', 'content-length': '0' });
      res.end();
      return true;
    }
    if (!pathname.startsWith('/ui/')) return false;
    const name = pathname.slice('/ui/'.length) || 'index.html';
    if (name === 'login') {
      this.#login(res, query.get('code') ?? '');
      return true;
    }
    const file = this.#files.get(name);
    if (!file) {
      page(res, 404, 'Not found', 'No such page.');
      return true;
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': file.type,
      'content-length': String(file.body.length),
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  }

  #login(res: ServerResponse, code: string): void {
    const session = code ? this.#sessions.redeem(code) : undefined;
    if (!session) {
      page(
        res,
        401,
        'Login link not valid',
        'This login link was already used, has expired, or is wrong. Run <code>shic ui</code> for a new one.',
      );
      return;
    }
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: '/ui/',
      'set-cookie': this.#sessions.cookie(session),
      'cache-control': 'no-store',
      'content-length': '0',
    });
    res.end();
  }
}
