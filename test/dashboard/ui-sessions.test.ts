import { describe, expect, it } from 'vitest';
import { cookieValue, UI_COOKIE, UiSessions } from '../../src/dashboard/ui-sessions.js';

describe('UiSessions', () => {
  it('redeems a login code once, and not after it expired', () => {
    let now = 1_000;
    const sessions = new UiSessions({ linkTtlMs: 100, now: () => now });
    const { code } = sessions.createLoginCode();
    const session = sessions.redeem(code);
    expect(session?.csrfToken).toMatch(/^[\w-]{43}$/);
    expect(sessions.redeem(code)).toBeUndefined();
    const late = sessions.createLoginCode();
    now += 101;
    expect(sessions.redeem(late.code)).toBeUndefined();
    expect(sessions.redeem('made-up')).toBeUndefined();
  });

  it('finds the session from its HttpOnly SameSite=Strict cookie until it expires or logs out', () => {
    let now = 0;
    const sessions = new UiSessions({ sessionTtlMs: 1_000, now: () => now });
    const session = sessions.redeem(sessions.createLoginCode().code)!;
    const setCookie = sessions.cookie(session);
    expect(setCookie).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
    const header = `other=1; ${setCookie.split(';')[0]}`;
    expect(cookieValue(header, UI_COOKIE)).toBe(session.id);
    expect(sessions.fromCookie(header)?.csrfToken).toBe(session.csrfToken);
    expect(sessions.csrfMatches(session, session.csrfToken)).toBe(true);
    expect(sessions.csrfMatches(session, 'wrong')).toBe(false);
    expect(sessions.csrfMatches(session, undefined)).toBe(false);
    sessions.logout(header);
    expect(sessions.fromCookie(header)).toBeUndefined();
    const again = sessions.redeem(sessions.createLoginCode().code)!;
    now += 1_001;
    expect(sessions.fromCookie(`${UI_COOKIE}=${again.id}`)).toBeUndefined();
  });

  it('keeps at most maxSessions, dropping the oldest', () => {
    const sessions = new UiSessions({ maxSessions: 2 });
    const [a, b, c] = [1, 2, 3].map(() => sessions.redeem(sessions.createLoginCode().code)!);
    expect(sessions.fromCookie(`${UI_COOKIE}=${a!.id}`)).toBeUndefined();
    expect(sessions.fromCookie(`${UI_COOKIE}=${b!.id}`)).toBeDefined();
    expect(sessions.fromCookie(`${UI_COOKIE}=${c!.id}`)).toBeDefined();
  });
});
