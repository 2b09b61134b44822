import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Lease } from '../contracts/lease.js';
import { errorMessage } from '../errors/error-message.js';
import { KernelError } from '../errors/kernel-error.js';
import type { RequestOutcome, RequestRecord } from '../gateway/gateway-events.js';
import { MIGRATIONS } from './store-schema.js';

/** An instance as the store keeps it: enough to find its process again and re-register it after a restart. */
export interface StoredInstance {
  instanceId: string;
  instanceKey: string;
  backend: string;
  /** The `deployment` of the spec's metadata (shic.yaml), when there is one. */
  deployment: string | null;
  state: string;
  pid: number | null;
  /** The process's start time, epoch ms: with the pid it tells the process from a later one reusing the pid. */
  processStart: number | null;
  /** The `SHIC_OWNER` value in the process's environment. */
  ownerMarker: string | null;
  port: number | null;
  restarts: number;
  /** What residency charged it, per device, in bytes. */
  memory: Record<string, number> | null;
  /** The validated startup plan with its secrets removed (see `splitPlanSecrets`). */
  plan: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Where the process writes its output. */
  logFile: string | null;
  startedAt: number | null;
  readyAt: number | null;
  /** When a daemon last adopted it, epoch ms; null when the daemon that started it still runs it. */
  adoptedAt: number | null;
  /** How many daemon restarts it survived. */
  adoptions: number;
  updatedAt: number;
}

/** A live lease as the store keeps it. */
export type StoredLease = Lease & { backend: string };

/** Filters of {@link StateStore.listAttempts}. */
export interface AttemptQuery {
  deployment?: string;
  outcome?: RequestOutcome;
  /** Only requests that arrived at or after this epoch ms. */
  since?: number;
  /** Newest first, at most this many. @default 100 */
  limit?: number;
}

/** How many request attempts the store keeps. */
export interface AttemptRetention {
  /** Newest first, at most this many rows. @default 100000 */
  maxCount?: number;
  /** Rows older than this are deleted, in ms. @default 7 days */
  maxAgeMs?: number;
}

/** Options of {@link StateStore.open}. */
export interface StateStoreOptions {
  retention?: AttemptRetention;
  /** Writes are batched and committed this long after the first one, in ms. @default 50 */
  flushDelayMs?: number;
  now?: () => number;
}

/** The database file in a state directory. */
export const STORE_FILE = 'shic.db';

type Database = BetterSqlite3.Database;

interface InstanceRow {
  instance_id: string;
  instance_key: string;
  backend: string;
  deployment: string | null;
  state: string;
  pid: number | null;
  process_start: number | null;
  owner_marker: string | null;
  port: number | null;
  restarts: number;
  memory_json: string | null;
  plan_json: string;
  metadata_json: string;
  log_file: string | null;
  started_at: number | null;
  ready_at: number | null;
  adopted_at: number | null;
  adoptions: number;
  updated_at: number;
}

interface LeaseRow {
  lease_ref: string;
  instance_id: string;
  backend: string;
  owner_ref: string;
  ttl_ms: number;
  expires_at: number;
  acquired_at: number;
  exclusive: number;
  metadata_json: string;
}

function toInstance(row: InstanceRow): StoredInstance {
  return {
    instanceId: row.instance_id,
    instanceKey: row.instance_key,
    backend: row.backend,
    deployment: row.deployment,
    state: row.state,
    pid: row.pid,
    processStart: row.process_start,
    ownerMarker: row.owner_marker,
    port: row.port,
    restarts: row.restarts,
    memory: row.memory_json === null ? null : JSON.parse(row.memory_json),
    plan: JSON.parse(row.plan_json),
    metadata: JSON.parse(row.metadata_json),
    logFile: row.log_file,
    startedAt: row.started_at,
    readyAt: row.ready_at,
    adoptedAt: row.adopted_at,
    adoptions: row.adoptions,
    updatedAt: row.updated_at,
  };
}

function toLease(row: LeaseRow): StoredLease {
  return {
    leaseRef: row.lease_ref,
    instanceId: row.instance_id,
    backend: row.backend,
    ownerRef: row.owner_ref,
    ttlMs: row.ttl_ms,
    expiresAt: row.expires_at,
    acquiredAt: row.acquired_at,
    renewable: true,
    exclusive: row.exclusive === 1,
    metadata: JSON.parse(row.metadata_json),
  };
}

async function loadDriver(file: string): Promise<typeof BetterSqlite3> {
  try {
    return (await import('better-sqlite3')).default;
  } catch (error) {
    throw new KernelError(
      'store_unavailable',
      `The state store ${file} needs the better-sqlite3 module, which did not load: ${errorMessage(error)}. Reinstall it for this Node.js (npm rebuild better-sqlite3).`,
      { path: file, cause: error },
    );
  }
}

/**
 * The durable state of a kernel and its daemon (guides/durable-state.md): instances, leases and the gateway's
 * request attempts in SQLite (`<stateDir>/shic.db`, WAL, mode 0600, numbered migrations). Writes are queued and
 * committed together a few ms later in one transaction, so the warm path never waits on the disk; reads commit
 * what is queued first. Nothing secret is written here: plans arrive with their secrets split off.
 */
export class StateStore {
  readonly file: string;
  readonly #db: Database;
  readonly #now: () => number;
  readonly #flushDelayMs: number;
  readonly #maxCount: number;
  readonly #maxAgeMs: number;
  readonly #instances = new Map<string, StoredInstance | null>();
  readonly #leases = new Map<string, StoredLease | null>();
  #attempts: RequestRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #sql: ReturnType<typeof prepare>;

  private constructor(file: string, db: Database, options: StateStoreOptions) {
    this.file = file;
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#flushDelayMs = options.flushDelayMs ?? 50;
    this.#maxCount = options.retention?.maxCount ?? 100_000;
    this.#maxAgeMs = options.retention?.maxAgeMs ?? 7 * 24 * 3_600_000;
    this.#sql = prepare(db);
  }

  /**
   * Opens (creating and migrating) the store of a state directory.
   * @throws KernelError `store_unavailable` when better-sqlite3 cannot load or the file cannot be opened, or was
   *   written by a newer version (its schema is ahead of this one).
   */
  static async open(stateDir: string, options: StateStoreOptions = {}): Promise<StateStore> {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, STORE_FILE);
    const Driver = await loadDriver(file);
    const created = !existsSync(file);
    let db: Database;
    try {
      db = new Driver(file, { timeout: 5000 });
    } catch (error) {
      throw new KernelError(
        'store_unavailable',
        `Could not open the state store ${file}: ${errorMessage(error)}.`,
        { path: file, cause: error },
      );
    }
    try {
      for (const suffix of created ? ['', '-wal', '-shm'] : ['']) {
        if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      migrate(db, file);
      for (const suffix of ['-wal', '-shm']) if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    } catch (error) {
      db.close();
      throw error;
    }
    return new StateStore(file, db, options);
  }

  /** The schema version of the open database. */
  get version(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  /** Queues an instance's row (insert or replace). */
  putInstance(instance: StoredInstance): void {
    this.#instances.set(instance.instanceId, instance);
    this.#schedule();
  }

  /** Queues the removal of an instance's row and its leases. */
  removeInstance(instanceId: string): void {
    this.#instances.set(instanceId, null);
    this.#schedule();
  }

  putLease(lease: StoredLease): void {
    this.#leases.set(lease.leaseRef, lease);
    this.#schedule();
  }

  removeLease(leaseRef: string): void {
    this.#leases.set(leaseRef, null);
    this.#schedule();
  }

  /** Queues a finished gateway request. */
  addAttempt(record: RequestRecord): void {
    this.#attempts.push(record);
    this.#schedule();
  }

  listInstances(): StoredInstance[] {
    this.flush();
    return (this.#sql.allInstances.all() as InstanceRow[]).map(toInstance);
  }

  listLeases(): StoredLease[] {
    this.flush();
    return (this.#sql.allLeases.all() as LeaseRow[]).map(toLease);
  }

  /** Request attempts matching the filters, newest first. */
  listAttempts(query: AttemptQuery = {}): RequestRecord[] {
    this.flush();
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit ?? 100 };
    if (query.deployment !== undefined) {
      where.push('deployment = @deployment');
      params.deployment = query.deployment;
    }
    if (query.outcome !== undefined) {
      where.push('outcome = @outcome');
      params.outcome = query.outcome;
    }
    if (query.since !== undefined) {
      where.push('started_at >= @since');
      params.since = query.since;
    }
    const rows = this.#db
      .prepare(
        `SELECT record_json FROM request_attempts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`,
      )
      .all(params) as { record_json: string }[];
    return rows.map((row) => JSON.parse(row.record_json) as RequestRecord);
  }

  /** How many request attempts are kept now. */
  countAttempts(): number {
    this.flush();
    return (this.#sql.countAttempts.get() as { n: number }).n;
  }

  getMeta(key: string): string | undefined {
    return (this.#sql.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  /** Written at once (not queued): a successor may need it after a crash a moment later. */
  setMeta(key: string, value: string | null): void {
    if (value === null) this.#sql.deleteMeta.run(key);
    else this.#sql.putMeta.run(key, value);
  }

  /** Commits every queued write now, in one transaction. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    if (this.#instances.size === 0 && this.#leases.size === 0 && this.#attempts.length === 0) return;
    const instances = [...this.#instances];
    const leases = [...this.#leases];
    const attempts = this.#attempts;
    this.#instances.clear();
    this.#leases.clear();
    this.#attempts = [];
    const sql = this.#sql;
    this.#db.transaction(() => {
      for (const [id, row] of instances) {
        if (row === null) {
          sql.deleteInstance.run(id);
          sql.deleteLeasesOf.run(id);
        } else sql.putInstance.run(instanceParams(row));
      }
      for (const [ref, lease] of leases) {
        if (lease === null) sql.deleteLease.run(ref);
        else sql.putLease.run(leaseParams(lease));
      }
      for (const record of attempts) sql.putAttempt.run(attemptParams(record));
      if (attempts.length > 0) {
        sql.pruneOld.run(this.#now() - this.#maxAgeMs);
        sql.pruneMany.run(this.#maxCount);
      }
    })();
  }

  /** Commits what is queued and closes the database. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, this.#flushDelayMs);
    this.#timer.unref();
  }
}

function migrate(db: Database, file: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new KernelError(
      'store_unavailable',
      `The state store ${file} has schema version ${current}, newer than this shic knows (${MIGRATIONS.length}). Upgrade shic, or use another state directory.`,
      { path: file },
    );
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.pragma(`user_version = ${version}`);
    })();
  }
}

function prepare(db: Database) {
  return {
    allInstances: db.prepare('SELECT * FROM instances ORDER BY started_at'),
    putInstance: db.prepare(
      `INSERT OR REPLACE INTO instances VALUES (@instance_id, @instance_key, @backend, @deployment, @state, @pid,
        @process_start, @owner_marker, @port, @restarts, @memory_json, @plan_json, @metadata_json, @log_file,
        @started_at, @ready_at, @adopted_at, @adoptions, @updated_at)`,
    ),
    deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
    deleteLeasesOf: db.prepare('DELETE FROM leases WHERE instance_id = ?'),
    allLeases: db.prepare('SELECT * FROM leases ORDER BY acquired_at'),
    putLease: db.prepare(
      `INSERT OR REPLACE INTO leases VALUES (@lease_ref, @instance_id, @backend, @owner_ref, @ttl_ms, @expires_at,
        @acquired_at, @exclusive, @metadata_json)`,
    ),
    deleteLease: db.prepare('DELETE FROM leases WHERE lease_ref = ?'),
    putAttempt: db.prepare(
      `INSERT INTO request_attempts (request_id, model, deployment, instance_id, outcome, error_code, started_at,
        wait_ms, ttft_ms, duration_ms, completion_tokens, record_json) VALUES (@request_id, @model, @deployment,
        @instance_id, @outcome, @error_code, @started_at, @wait_ms, @ttft_ms, @duration_ms, @completion_tokens,
        @record_json)`,
    ),
    pruneOld: db.prepare('DELETE FROM request_attempts WHERE started_at < ?'),
    pruneMany: db.prepare(
      'DELETE FROM request_attempts WHERE seq <= (SELECT seq FROM request_attempts ORDER BY seq DESC LIMIT 1 OFFSET ?)',
    ),
    countAttempts: db.prepare('SELECT count(*) AS n FROM request_attempts'),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    putMeta: db.prepare('INSERT OR REPLACE INTO meta VALUES (?, ?)'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
  };
}

function instanceParams(row: StoredInstance) {
  return {
    instance_id: row.instanceId,
    instance_key: row.instanceKey,
    backend: row.backend,
    deployment: row.deployment,
    state: row.state,
    pid: row.pid,
    process_start: row.processStart,
    owner_marker: row.ownerMarker,
    port: row.port,
    restarts: row.restarts,
    memory_json: row.memory === null ? null : JSON.stringify(row.memory),
    plan_json: JSON.stringify(row.plan),
    metadata_json: JSON.stringify(row.metadata),
    log_file: row.logFile,
    started_at: row.startedAt,
    ready_at: row.readyAt,
    adopted_at: row.adoptedAt,
    adoptions: row.adoptions,
    updated_at: row.updatedAt,
  };
}

function leaseParams(lease: StoredLease) {
  return {
    lease_ref: lease.leaseRef,
    instance_id: lease.instanceId,
    backend: lease.backend,
    owner_ref: lease.ownerRef,
    ttl_ms: lease.ttlMs,
    expires_at: lease.expiresAt,
    acquired_at: lease.acquiredAt,
    exclusive: lease.exclusive ? 1 : 0,
    metadata_json: JSON.stringify(lease.metadata),
  };
}

function attemptParams(record: RequestRecord) {
  return {
    request_id: record.requestId,
    model: record.model,
    deployment: record.deployment,
    instance_id: record.instanceId,
    outcome: record.outcome,
    error_code: record.errorCode,
    started_at: record.startedAt,
    wait_ms: record.waitMs,
    ttft_ms: record.ttftMs,
    duration_ms: record.durationMs,
    completion_tokens: record.completionTokens,
    record_json: JSON.stringify(record),
  };
}
