/**
 * The state store's schema as numbered migrations: migration N takes a database at `user_version` N-1 to N.
 * Append only: a shipped migration is never edited, a change is a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: instances, leases, request attempts, and small key/value facts (the watchdog of the daemon that wrote them).
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE instances (
    instance_id TEXT PRIMARY KEY,
    instance_key TEXT NOT NULL,
    backend TEXT NOT NULL,
    deployment TEXT,
    state TEXT NOT NULL,
    pid INTEGER,
    process_start INTEGER,
    owner_marker TEXT,
    port INTEGER,
    restarts INTEGER NOT NULL DEFAULT 0,
    memory_json TEXT,
    plan_json TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    log_file TEXT,
    started_at INTEGER,
    ready_at INTEGER,
    adopted_at INTEGER,
    adoptions INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE leases (
    lease_ref TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    owner_ref TEXT NOT NULL,
    ttl_ms INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL,
    exclusive INTEGER NOT NULL,
    metadata_json TEXT NOT NULL
  );
  CREATE INDEX leases_by_instance ON leases (instance_id);
  CREATE TABLE request_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    model TEXT NOT NULL,
    deployment TEXT,
    instance_id TEXT,
    outcome TEXT NOT NULL,
    error_code TEXT,
    started_at INTEGER NOT NULL,
    wait_ms INTEGER,
    ttft_ms INTEGER,
    duration_ms INTEGER NOT NULL,
    completion_tokens INTEGER,
    record_json TEXT NOT NULL
  );
  CREATE INDEX request_attempts_by_start ON request_attempts (started_at);
  CREATE INDEX request_attempts_by_deployment ON request_attempts (deployment, started_at);
  `,
];
