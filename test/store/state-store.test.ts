// The SQLite state store on a real database file: schema migrations, file modes, write batching, request-record
// retention by count and by age, and a refusal of a database written by a newer shic.
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../src/gateway/gateway-events.js';
import { STORE_FILE, StateStore } from '../../src/store/state-store.js';
import { MIGRATIONS } from '../../src/store/store-schema.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(n: number, startedAt: number, deployment = 'a'): RequestRecord {
  return {
    requestId: `req-${n}`,
    model: deployment,
    deployment,
    instanceId: 'llama-cpp-1',
    route: '/v1/chat/completions',
    stream: false,
    outcome: n % 2 === 0 ? 'completed' : 'failed',
    httpStatus: 200,
    errorCode: null,
    errorMessage: null,
    startedAt,
    waitMs: 1,
    coldStart: false,
    ttftMs: 5,
    durationMs: 10,
    promptTokens: 3,
    completionTokens: 4,
    tokensPerSecond: 400,
    attempts: 1,
  };
}

describe('StateStore', () => {
  it('creates the schema at the latest version, in WAL mode, with files only its user can read', async () => {
    const store = await StateStore.open(dir);
    expect(store.version).toBe(MIGRATIONS.length);
    store.addAttempt(record(1, Date.now()));
    store.flush();
    for (const suffix of ['', '-wal']) {
      expect(statSync(join(dir, STORE_FILE + suffix)).mode & 0o777).toBe(0o600);
    }
    store.close();
    const db = new Database(join(dir, STORE_FILE), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('queues writes until the flush delay and commits them together; reads see queued writes', async () => {
    const store = await StateStore.open(dir, { flushDelayMs: 60_000 });
    store.putLease({
      leaseRef: 'l1',
      instanceId: 'i1',
      backend: 'llama-cpp',
      ownerRef: 'me',
      ttlMs: 1000,
      expiresAt: 2000,
      acquiredAt: 1000,
      renewable: true,
      exclusive: false,
      metadata: { run: 'x' },
    });
    const peek = new Database(join(dir, STORE_FILE), { readonly: true });
    expect(peek.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    expect(store.listLeases()).toEqual([expect.objectContaining({ leaseRef: 'l1', metadata: { run: 'x' } })]);
    expect(peek.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 1 });
    store.removeLease('l1');
    store.close();
    expect(peek.prepare('SELECT count(*) AS n FROM leases').get()).toEqual({ n: 0 });
    peek.close();
  });

  it('keeps at most maxCount request records and none older than maxAgeMs; filters by deployment, outcome and time', async () => {
    const now = 1_000_000_000;
    const store = await StateStore.open(dir, {
      retention: { maxCount: 5, maxAgeMs: 10_000 },
      now: () => now,
    });
    for (let n = 0; n < 8; n++) store.addAttempt(record(n, now - 1000 + n, n < 4 ? 'a' : 'b'));
    store.addAttempt(record(99, now - 20_000));
    expect(store.countAttempts()).toBe(5);
    const kept = store.listAttempts({ limit: 100 }).map((r) => r.requestId);
    expect(kept).toEqual(['req-7', 'req-6', 'req-5', 'req-4', 'req-3']);
    expect(store.listAttempts({ deployment: 'a' }).map((r) => r.requestId)).toEqual(['req-3']);
    expect(store.listAttempts({ outcome: 'completed' }).map((r) => r.requestId)).toEqual(['req-6', 'req-4']);
    expect(store.listAttempts({ since: now - 1000 + 6 }).map((r) => r.requestId)).toEqual(['req-7', 'req-6']);
    store.close();
    // Reopened: the records are still there.
    const again = await StateStore.open(dir);
    expect(again.countAttempts()).toBe(5);
    again.close();
  });

  it('refuses a database whose schema is newer than this version, and leaves it as it was', async () => {
    const db = new Database(join(dir, STORE_FILE));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    await expect(StateStore.open(dir)).rejects.toMatchObject({
      code: 'store_unavailable',
      message: expect.stringMatching(/newer than this shic knows/),
    });
    const check = new Database(join(dir, STORE_FILE), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length + 1);
    check.close();
  });
});
