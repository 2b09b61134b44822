import type { Logger } from 'pino';
import type { Backend } from '../backend/backend.js';
import { checkDeployments } from '../config/check-deployments.js';
import type { LoadedConfig } from '../config/load-config.js';
import { resolveBackends } from '../config/resolve-backends.js';
import type { RuntimeSnapshot } from '../contracts/runtime-snapshot.js';
import { createKernel } from '../kernel/create-kernel.js';
import type { ControlKernel } from './control-kernel.js';
import { type ControlServer, startControlServer } from './control-server.js';
import { DeploymentCatalog } from './deployment-catalog.js';
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
  /** Builds the kernel. @default createKernel({ stateDir, logger, backends }) */
  createKernel?: (options: { stateDir: string; logger: Logger; backends: Backend[] }) => ControlKernel;
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
  readonly stateDir: string;
  readonly token: string;
  /** Starts every `start: eager` deployment in parallel; failures are reported, not thrown. */
  startEager(signal?: AbortSignal): Promise<EagerStartResult[]>;
  /**
   * Drains the control API, closes the kernel (stopping what it spawned), closes the API within its grace and
   * removes the state files.
   */
  close(): Promise<void>;
}

function defaultKernel(options: { stateDir: string; logger: Logger; backends: Backend[] }): ControlKernel {
  return createKernel(options);
}

/**
 * Starts the `shic up` daemon: takes the state directory's lock (a second daemon refuses), loads the
 * config's backends, creates the kernel, serves the control API and writes its address and a fresh bearer
 * token (mode 0600) to the state directory.
 * @throws DaemonRunningError when another daemon owns the state directory; KernelError `unknown_backend`;
 *   InvalidConfigError (`invalid_config`) when a deployment fails its backend's static checks.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, stateDir } = options.loaded;
  const { logger } = options;
  const releaseLock = await acquireDaemonLock(stateDir);
  let kernel: ControlKernel | undefined;
  let server: ControlServer | undefined;
  try {
    const { backends, ids } = await resolveBackends(config, { baseDir: options.loaded.baseDir });
    if (options.checkSpecs !== false) await checkDeployments(options.loaded, backends, ids);
    const catalog = new DeploymentCatalog(config.deployments, ids);
    kernel = (options.createKernel ?? defaultKernel)({ stateDir, logger, backends });
    const token = createToken();
    server = await startControlServer({
      kernel,
      token,
      catalog,
      logger,
      host: options.host ?? config.control.host,
      port: options.port ?? config.control.port,
      bodyLimitBytes: config.control.bodyLimitBytes,
    });
    await writeControlFiles(stateDir, { url: server.url, pid: process.pid, startedAt: Date.now() }, token);
    const removePointer =
      options.pointerDir && options.pointerDir !== stateDir
        ? await writeDaemonPointer(options.pointerDir, stateDir)
        : async () => {};
    logger.info({ url: server.url, stateDir }, 'control API listening');
    const running = { kernel, server };
    let closing: Promise<void> | undefined;
    return {
      kernel,
      server,
      catalog,
      stateDir,
      token,
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
      close() {
        closing ??= (async () => {
          // Drain first (no new work, in-flight calls aborted), stop the servers while event streams still
          // carry their last events, then end the streams and cut what is left.
          await removePointer();
          running.server.drain();
          await running.kernel.close();
          await running.server.close();
          await releaseLock();
        })();
        return closing;
      },
    };
  } catch (error) {
    await server?.close();
    await kernel?.close();
    await releaseLock();
    throw error;
  }
}
