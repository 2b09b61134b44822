import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { checkDeployments } from '../config/check-deployments.js';
import type { LoadedConfig } from '../config/load-config.js';
import { resolveBackends } from '../config/resolve-backends.js';
import { deploymentSchema, type GatewayConfig, type ResourcesConfig } from '../config/shic-config.js';
import type { RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import { InvalidConfigError } from '../errors/error-catalog.js';
import { errorMessage } from '../errors/error-message.js';
import { KernelError } from '../errors/kernel-error.js';
import { createGateway } from '../gateway/create-gateway.js';
import { type GatewayServer, startGatewayServer } from '../gateway/gateway-server.js';
import { type RequestHistory, RequestLog } from '../gateway/request-log.js';
import { scanModelsFolder } from '../gateway/scan-models-folder.js';
import type { AdoptionReport } from '../kernel/adopt-instances.js';
import { createKernel } from '../kernel/create-kernel.js';
import type { KernelOptions } from '../kernel/kernel-options.js';
import { StateStore } from '../store/state-store.js';
import type { ControlKernel } from './control-kernel.js';
import { type ControlServer, isLoopbackHost, startControlServer } from './control-server.js';
import { DeploymentCatalog } from './deployment-catalog.js';
import { diffConfig } from './diff-config.js';
import type { ReloadReport } from './reload-report.js';
import { acquireDaemonLock, createToken, writeControlFiles, writeDaemonPointer } from './state-files.js';

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  /** The validated config (`loadConfigFile` / `parseConfigText`) with its state directory. */
  loaded: LoadedConfig;
  logger: Logger;
  /** Replaces `control.host`. */
  host?: string;
  /** Replaces `control.port`. */
  port?: number;
  /**
   * The default state directory, when it differs from the config's: a pointer left there lets `shic` commands
   * run without `--state-dir` find this daemon. @default no pointer
   */
  pointerDir?: string;
  /**
   * Refuse a config whose deployments fail their backend's static checks (boot spec, model file, binary)
   * before anything starts. @default true
   */
  checkSpecs?: boolean;
  /** Replaces fields of the config's `gateway:` section (`shic up --gateway-port`, `--models-dir`, `--no-gateway`). */
  gateway?: { enabled?: boolean; host?: string; port?: number; modelsDir?: string };
  /** Builds the kernel. @default createKernel({ stateDir, logger, backends, residency }) */
  createKernel?: (options: KernelFactoryOptions) => ControlKernel;
  /** Re-reads the config the daemon started from (`shic reload`, SIGHUP); absent = no reload. */
  reloadConfig?: () => Promise<LoadedConfig>;
  /** Replaces `state.adopt` (`shic up --adopt` / `--no-adopt`). */
  adopt?: boolean;
  /** `POST /v1/shutdown` (`shic restart`): the caller stops the daemon, keeping its servers when asked to. */
  onShutdown?: (options: { keep: boolean }) => void;
}

/** How an eager deployment's start ended. */
export type EagerStartResult =
  | { deployment: string; ok: true; instance: RuntimeSnapshot }
  | { deployment: string; ok: false; error: unknown };

/** A running daemon: a kernel, its control API, and the files in the state directory. */
export interface Daemon {
  readonly kernel: ControlKernel;
  readonly server: ControlServer;
  readonly catalog: DeploymentCatalog;
  /** The OpenAI-compatible gateway's listener, unless `gateway.enabled: false`. */
  readonly gateway: GatewayServer | undefined;
  /** Finished gateway requests, kept in the state store (empty without a gateway). */
  readonly requests: RequestHistory;
  /** The state store (`<stateDir>/shic.db`). */
  readonly store: StateStore;
  /** What this start did with the servers the previous daemon left (guides/durable-state.md). */
  readonly adoption: AdoptionReport | null;
  /** Whether servers are kept across restarts (`state.adopt`). */
  readonly adopts: boolean;
  readonly stateDir: string;
  readonly token: string;
  /** Starts every `start: eager` deployment in parallel; failures are reported, not thrown. */
  startEager(signal?: AbortSignal): Promise<EagerStartResult[]>;
  /**
   * Re-reads the config and applies its deployments: new ones appear (eager ones start), removed and changed
   * ones are retired — at once with `now`, else when their leases end — and changed ones start again from their
   * new spec; unchanged ones are not touched. Other sections apply at the next `shic up` (`restartRequired`).
   * @throws InvalidConfigError (nothing changes) for a bad config; KernelError `reload_unavailable`.
   */
  reload(options?: { now?: boolean }): Promise<ReloadReport>;
  /**
   * Drains the control API, closes the kernel (stopping what it spawned — or, with `keep` and adoption on, leaving it
   * running for the next daemon), closes the API within its grace and removes the state files.
   */
  close(options?: { keep?: boolean }): Promise<void>;
}

function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// Anyone who can reach a gateway can make this machine load models: beyond loopback it needs keys.
function refuseOpenGateway(gateway: GatewayConfig): void {
  if (!gateway.enabled || isLoopbackHost(gateway.host) || gateway.apiKeys.length > 0) return;
  const issue = {
    path: 'gateway.apiKeys',
    message: `the gateway listens on ${gateway.host}, beyond loopback: set gateway.apiKeys (or bind it to 127.0.0.1)`,
  };
  throw new InvalidConfigError(`Invalid config: ${issue.path}: ${issue.message}`, [issue]);
}

// A models folder adds one on-demand llama-cpp deployment per model; a deployment the config declares wins.
async function withModelsFolder(
  loaded: LoadedConfig,
  gateway: GatewayConfig,
  logger: Logger,
): Promise<LoadedConfig> {
  if (!gateway.modelsDir) return loaded;
  const dir = resolve(loaded.baseDir, gateway.modelsDir);
  let found: Record<string, unknown>;
  try {
    found = await scanModelsFolder(dir, gateway.modelDefaults);
  } catch (error) {
    const issue = { path: 'gateway.modelsDir', message: `cannot read ${dir}: ${errorMessage(error)}` };
    throw new InvalidConfigError(`Invalid config: ${issue.path}: ${issue.message}`, [issue], {
      path: dir,
      cause: error,
    });
  }
  const added = Object.fromEntries(
    Object.entries(found)
      .filter(([name]) => !(name in loaded.config.deployments))
      .map(([name, d]) => [name, deploymentSchema.parse(d)]),
  );
  logger.info({ modelsDir: dir, models: Object.keys(added) }, 'models folder scanned');
  return { ...loaded, config: { ...loaded.config, deployments: { ...loaded.config.deployments, ...added } } };
}

/** What the daemon hands its kernel factory. */
export interface KernelFactoryOptions {
  stateDir: string;
  logger: Logger;
  backends: Backend[];
  /** From shic.yaml `resources` (guides/residency.md). */
  residency: KernelOptions['residency'];
  store: StateStore;
  adoption: KernelOptions['adoption'];
}

function defaultKernel(options: KernelFactoryOptions): ControlKernel {
  return createKernel(options);
}

// shic.yaml's `resources` as the kernel's `residency` option.
function residencyOf(resources: ResourcesConfig): KernelOptions['residency'] {
  if (!resources.enabled) return false;
  return {
    budgets: resources.devices,
    reserve: resources.reserve,
    detect: resources.detect,
    queueTimeoutMs: resources.queueTimeoutMs,
    recoveryTimeoutMs: resources.recoveryTimeoutMs,
    fairnessMs: resources.fairnessMs,
  };
}

/**
 * Starts the `shic up` daemon: takes the state directory's lock (a second daemon refuses), loads the
 * config's backends, creates the kernel, serves the control API and writes its address and a fresh bearer
 * token (mode 0600) to the state directory.
 * @throws DaemonRunningError when another daemon owns the state directory; KernelError `unknown_backend`;
 *   InvalidConfigError (`invalid_config`) when a deployment fails its backend's static checks.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { stateDir } = options.loaded;
  const { logger } = options;
  const gatewayConfig = { ...options.loaded.config.gateway, ...definedFields(options.gateway ?? {}) };
  refuseOpenGateway(gatewayConfig);
  const releaseLock = await acquireDaemonLock(stateDir);
  let store: StateStore | undefined;
  let kernel: ControlKernel | undefined;
  let server: ControlServer | undefined;
  let gatewayServer: GatewayServer | undefined;
  try {
    const loaded = await withModelsFolder(options.loaded, gatewayConfig, logger);
    const { config } = loaded;
    const references = gatewayConfig.enabled ? gatewayConfig.modelReferences : undefined;
    const ggufDirs = (references?.ggufDirs ?? []).map((dir) => resolve(loaded.baseDir, dir));
    const { backends, ids } = await resolveBackends(config, {
      baseDir: loaded.baseDir,
      extraBackends: references?.enabled
        ? [
            ...(ggufDirs.length > 0 ? ['llama-cpp'] : []),
            ...(references.ollama ? ['ollama'] : []),
            ...(references.mlx ? ['mlx'] : []),
          ]
        : [],
    });
    if (options.checkSpecs !== false) await checkDeployments(loaded, backends, ids);
    const catalog = new DeploymentCatalog(config.deployments, ids);
    let runningConfig = config;
    let reloadImpl: ((o: { now: boolean }) => Promise<ReloadReport>) | undefined;
    store = await StateStore.open(stateDir, {
      retention: { maxCount: config.state.requestsMaxCount, maxAgeMs: config.state.requestsMaxAgeMs },
    });
    const adopts = options.adopt ?? config.state.adopt;
    kernel = (options.createKernel ?? defaultKernel)({
      stateDir,
      logger,
      backends,
      residency: residencyOf(config.resources),
      store,
      // A recorded server is adopted only when its deployment is still configured with the same instance key.
      adoption: adopts
        ? {
            graceMs: config.state.adoptGraceMs,
            resolveSpec: (row) =>
              row.deployment !== null && catalog.has(row.deployment)
                ? catalog.instanceSpec(row.deployment)
                : undefined,
          }
        : false,
    });
    const openStore = store;
    const history: RequestHistory = {
      add: (record) => openStore.addAttempt(record),
      list: (query) => openStore.listAttempts(query),
    };
    const gateway = gatewayConfig.enabled
      ? createGateway({
          kernel,
          deployments: catalog,
          config: {
            ...gatewayConfig,
            modelsDir: undefined,
            apiKeys: gatewayConfig.apiKeys,
            modelReferences: { ...gatewayConfig.modelReferences, ggufDirs },
          },
          logger,
          requests: history,
        })
      : undefined;
    const requests = gateway?.requests ?? new RequestLog(1);
    const adoption = (await kernel.adoption?.()) ?? null;
    if (adoption && (adoption.adopted.length > 0 || adoption.stopped.length > 0 || adoption.left.length > 0))
      logger.info(adoption, 'servers of the previous daemon');
    const token = createToken();
    server = await startControlServer({
      kernel,
      token,
      catalog,
      logger,
      host: options.host ?? config.control.host,
      port: options.port ?? config.control.port,
      bodyLimitBytes: config.control.bodyLimitBytes,
      ...(gateway ? { gateway } : {}),
      ...(options.reloadConfig ? { reload: (o: { now: boolean }) => reloadImpl!(o) } : {}),
      ...(options.onShutdown
        ? {
            shutdown: ({ keep }: { keep: boolean }) => {
              const kept = keep && adopts;
              // Answered first; the stop begins on the next turn.
              setImmediate(() => options.onShutdown?.({ keep: kept }));
              return { keep: kept, instances: kernel?.listInstances().length ?? 0 };
            },
          }
        : {}),
    });
    if (gateway) {
      gatewayServer = await startGatewayServer({
        gateway,
        host: gatewayConfig.host,
        port: gatewayConfig.port,
        logger,
      });
      logger.info({ url: gatewayServer.url }, 'gateway listening');
    }
    await writeControlFiles(
      stateDir,
      {
        url: server.url,
        pid: process.pid,
        startedAt: Date.now(),
        ...(gatewayServer ? { gatewayUrl: gatewayServer.url } : {}),
      },
      token,
    );
    const removePointer =
      options.pointerDir && options.pointerDir !== stateDir
        ? await writeDaemonPointer(options.pointerDir, stateDir)
        : async () => {};
    logger.info({ url: server.url, stateDir }, 'control API listening');
    const running = { kernel, server, gatewayServer };
    let closing: Promise<void> | undefined;
    const startInBackground = (names: string[]) => {
      for (const deployment of names.filter((name) => catalog.get(name).start === 'eager')) {
        running.kernel.ensureInstance(catalog.instanceSpec(deployment)).catch((error: unknown) => {
          logger.warn({ deployment, err: error }, 'reloaded deployment failed to start');
        });
      }
    };
    let reloading: Promise<unknown> = Promise.resolve();
    reloadImpl = ({ now }) => {
      // One reload at a time, in order: each diffs against what the one before applied.
      const next = reloading.then(async (): Promise<ReloadReport> => {
        if (!options.reloadConfig)
          throw new KernelError('reload_unavailable', 'This daemon has no config file to reload.');
        const fresh = await withModelsFolder(await options.reloadConfig(), gatewayConfig, logger);
        const resolved = await resolveBackends(fresh.config, { baseDir: fresh.baseDir });
        const registered = new Set(backends.map((b) => b.id));
        const unknown = [...new Set(resolved.ids.values())].filter((id) => !registered.has(id));
        if (unknown.length > 0) {
          throw new InvalidConfigError(
            `Invalid config: backends ${unknown.join(', ')} are not loaded in this daemon: restart shic up to add backends.`,
            unknown.map((id) => ({ path: 'backends', message: `backend ${id} needs a restart of shic up` })),
          );
        }
        if (options.checkSpecs !== false) await checkDeployments(fresh, resolved.backends, resolved.ids);
        const diff = diffConfig(runningConfig, fresh.config);
        catalog.replace(fresh.config.deployments, resolved.ids);
        runningConfig = fresh.config;
        const leaving = new Set([...diff.removed, ...diff.changed]);
        const retired: ReloadReport['retired'] = [];
        const stops: Promise<void>[] = [];
        for (const instance of running.kernel.listInstances()) {
          const deployment = instance.metadata.deployment;
          if (typeof deployment !== 'string' || !leaving.has(deployment) || instance.state === 'stopped')
            continue;
          retired.push({ instanceId: instance.instanceId, deployment, leases: instance.leaseCount, now });
          stops.push(running.kernel.retireInstance(instance.instanceId, { now }));
        }
        if (now) await Promise.all(stops);
        startInBackground([...diff.added, ...diff.changed]);
        logger.info({ ...diff, retired: retired.length }, 'config reloaded');
        return { ...diff, file: fresh.file ?? null, retired };
      });
      reloading = next.catch(() => {});
      return next;
    };
    return {
      kernel,
      server,
      catalog,
      gateway: gatewayServer,
      requests,
      store,
      adoption,
      adopts,
      stateDir,
      token,
      reload: (o = {}) => reloadImpl!({ now: o.now === true }),
      async startEager(signal) {
        const eager = catalog.names().filter((name) => catalog.get(name).start === 'eager');
        return Promise.all(
          eager.map(async (deployment): Promise<EagerStartResult> => {
            try {
              const { instance } = await running.kernel.ensureInstance(catalog.instanceSpec(deployment), {
                ...(signal ? { signal } : {}),
              });
              return { deployment, ok: true, instance };
            } catch (error) {
              // Returned to the caller, which reports it (`shic up` prints one line): a debug record, not a
              // second copy on the terminal.
              logger.debug({ deployment, err: error }, 'eager deployment failed to start');
              return { deployment, ok: false, error };
            }
          }),
        );
      },
      close(closeOptions = {}) {
        closing ??= (async () => {
          // Drain first (no new work, in-flight calls aborted), stop the servers while event streams still
          // carry their last events, then end the streams and cut what is left.
          await removePointer();
          running.server.drain();
          // Gateway requests get their grace to finish, then are aborted (leases released) before the kernel
          // stops the servers they stream from.
          await running.gatewayServer?.close();
          await running.kernel.close({ keep: closeOptions.keep === true && adopts });
          await running.server.close();
          openStore.close();
          await releaseLock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await gatewayServer?.close(0);
    await server?.close();
    await kernel?.close();
    store?.close();
    await releaseLock();
    throw error;
  }
}
