import { randomBytes, timingSafeEqual } from 'node:crypto';
import { secretDigest } from '../http/bearer-auth.js';

/** One browser session of the dashboard. */
export interface UiSession {
  id: string;
  /** Sent back by the page in `x-csrf-token` on every state-changing call. */
  csrfToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** Options of {@link UiSessions}. */
export interface UiSessionsOptions {
  /** How long a login link can be used, in ms. @default 120000 */
  linkTtlMs?: number;
  /** How long a session lasts, in ms. @default 43200000 (12 h) */
  sessionTtlMs?: number;
  /** Most live sessions; the oldest goes first. @default 64 */
  maxSessions?: number;
  now?: () => number;
}

/** The session cookie's name. */
export const UI_COOKIE = 'shic_session';

const token = () => randomBytes(32).toString('base64url');

function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(secretDigest(a), secretDigest(b));
}

/** The value of one cookie in a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/**
 * Login links and sessions of the dashboard: `shic ui` asks the control API (bearer token) for a one-time
 * link; opening it exchanges the code for a session cookie (HttpOnly, SameSite=Strict) and a CSRF token.
 * Codes are single-use and short-lived; only digests of codes and session ids are kept.
 */
export class UiSessions {
  readonly #codes = new Map<string, number>();
  readonly #sessions = new Map<string, UiSession>();
  readonly #linkTtlMs: number;
  readonly #sessionTtlMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: UiSessionsOptions = {}) {
    this.#linkTtlMs = options.linkTtlMs ?? 120_000;
    this.#sessionTtlMs = options.sessionTtlMs ?? 12 * 60 * 60 * 1000;
    this.#maxSessions = options.maxSessions ?? 64;
    this.#now = options.now ?? Date.now;
  }

  /** A fresh one-time login code and when it expires (epoch ms). */
  createLoginCode(): { code: string; expiresAt: number } {
    this.#sweep();
    const code = token();
    const expiresAt = this.#now() + this.#linkTtlMs;
    this.#codes.set(secretDigest(code).toString('hex'), expiresAt);
    return { code, expiresAt };
  }

  /** Exchanges a login code for a session; undefined when the code is unknown, used or expired. */
  redeem(code: string): UiSession | undefined {
    const key = secretDigest(code).toString('hex');
    const expiresAt = this.#codes.get(key);
    this.#codes.delete(key);
    if (expiresAt === undefined || expiresAt < this.#now()) return undefined;
    this.#sweep();
    while (this.#sessions.size >= this.#maxSessions) {
      const oldest = this.#sessions.keys().next().value as string;
      this.#sessions.delete(oldest);
    }
    const session: UiSession = {
      id: token(),
      csrfToken: token(),
      expiresAt: this.#now() + this.#sessionTtlMs,
    };
    this.#sessions.set(secretDigest(session.id).toString('hex'), { ...session });
    return session;
  }

  /** The live session a `Cookie` header names, if any. */
  fromCookie(header: string | undefined): UiSession | undefined {
    const id = cookieValue(header, UI_COOKIE);
    if (!id) return undefined;
    const key = secretDigest(id).toString('hex');
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    if (session.expiresAt < this.#now()) {
      this.#sessions.delete(key);
      return undefined;
    }
    return session;
  }

  /** True when `given` is the session's CSRF token (constant time). */
  csrfMatches(session: UiSession, given: string | undefined): boolean {
    return typeof given === 'string' && given.length > 0 && sameSecret(given, session.csrfToken);
  }

  /** Ends the session a `Cookie` header names. */
  logout(header: string | undefined): void {
    const id = cookieValue(header, UI_COOKIE);
    if (id) this.#sessions.delete(secretDigest(id).toString('hex'));
  }

  /** `Set-Cookie` for a session (or, without one, the header that clears the cookie). */
  cookie(session?: UiSession): string {
    if (!session) return `${UI_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
    const maxAge = Math.max(0, Math.floor((session.expiresAt - this.#now()) / 1000));
    return `${UI_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAge}`;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, expiresAt] of this.#codes) if (expiresAt < now) this.#codes.delete(key);
    for (const [key, session] of this.#sessions) if (session.expiresAt < now) this.#sessions.delete(key);
  }
}
