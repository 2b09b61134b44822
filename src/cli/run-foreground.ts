import { resolve } from 'node:path';
import { CommanderError } from 'commander';
import type { Level } from 'pino';
import type { LoadedConfig } from '../config/load-config.js';
import { KernelError } from '../errors/kernel-error.js';
import { defaultStateDir } from '../kernel/kernel-options.js';
import { type CliIo, onStopSignal, println } from './cli-context.js';
import { createCliLogger } from './cli-logger.js';
import { DeploymentProgress } from './render/deployment-progress.js';
import { describeReload } from './render/describe-reload.js';
import { watchDeploymentEvents } from './render/watch-deployment-events.js';

/** Flags shared by `up`, `spawn` and `attach`. */
export interface ForegroundOptions {
  /** Control API interface; replaces the config's `control.host`. @default config `control.host` */
  host?: string;
  /** The flag `host` came from, named in the refusal message. @default '--host' */
  hostFlag?: string;
  /** Accept a non-loopback `host` (with a warning); without it such a host is refused (exit 2). @default false */
  allowRemote?: boolean;
  port?: number;
  logLevel?: Level | 'silent';
  /** `--no-gateway` sets false. @default config `gateway.enabled` */
  gateway?: boolean;
  /** Gateway interface; replaces `gateway.host`. */
  gatewayHost?: string;
  /** Gateway port; replaces `gateway.port`. */
  gatewayPort?: number;
  /** Models folder; replaces `gateway.modelsDir`. */
  modelsDir?: string;
  /** Re-reads the config file (`shic reload`, SIGHUP); absent when the daemon runs without one. */
  reloadConfig?: () => Promise<LoadedConfig>;
  /** `--adopt` / `--no-adopt`: replaces `state.adopt`. */
  adopt?: boolean;
}

/** Help text of the `--allow-remote` flag (shared by `up`, `spawn` and `attach`). */
export const ALLOW_REMOTE_HELP =
  'allow a non-loopback control API host (e.g. 0.0.0.0): anyone who can reach it and holds the token controls the daemon';

// A control API beyond loopback hands the machine to whoever steals the token: it must be asked for twice.
function refuseRemote(host: string, from: string, io: CliIo, what: 'control' | 'gateway' = 'control'): never {
  const risk =
    what === 'control'
      ? 'who can reach this machine and holds the token could control the daemon'
      : 'who can reach this machine and holds a gateway API key could make it load and run models';
  const message =
    `error: refusing to serve the ${what === 'control' ? 'control API' : 'gateway'} on ${host} (${from}): it is ` +
    `not a loopback address, so anyone ${risk}. Bind to 127.0.0.1, or pass --allow-remote to accept remote access.`;
  io.stderr.write(`${message}\n`);
  throw new CommanderError(2, 'shic.remoteNotAllowed', message);
}

/**
 * Runs the daemon in the foreground: refuses a non-loopback control API host unless `allowRemote` (a
 * CommanderError with exit code 2, before anything starts), then the control API, eager deployments with a progress display, then waits for
 * SIGINT/SIGTERM and stops everything it owns (attached daemons are left alone).
 */
export async function runForeground(
  loaded: LoadedConfig,
  options: ForegroundOptions,
  io: CliIo,
): Promise<void> {
  const stop = onStopSignal();
  let handOver: ((keep: boolean) => void) | undefined;
  const shutdownAsked = new Promise<{ keep: boolean }>((resolve) => {
    handOver = (keep) => resolve({ keep });
  });
  try {
    const { isLoopbackHost } = await import('../control/control-server.js');
    const { startDaemon } = await import('../control/control-daemon.js');
    const interactive = Boolean(io.stderr.isTTY);
    const level = options.logLevel ?? loaded.config.logLevel ?? (interactive ? 'warn' : 'info');
    const logger = createCliLogger({ level });
    const host = options.host ?? loaded.config.control.host;
    if (!isLoopbackHost(host) && !options.allowRemote) {
      const from =
        options.host === undefined
          ? `from control.host in ${loaded.file ?? 'the config'}`
          : `from ${options.hostFlag ?? '--host'}`;
      refuseRemote(host, from, io);
    }
    if (!isLoopbackHost(host)) {
      io.stderr.write(
        `warning: the control API will listen on ${host}, not loopback: anyone who can reach it and holds the ` +
          'token controls this daemon. Bind to 127.0.0.1 unless you need remote access.\n',
      );
    }
    const gatewayHost = options.gatewayHost ?? loaded.config.gateway.host;
    const gatewayOn = options.gateway ?? loaded.config.gateway.enabled;
    if (gatewayOn && !isLoopbackHost(gatewayHost) && !options.allowRemote) {
      refuseRemote(
        gatewayHost,
        options.gatewayHost === undefined
          ? `from gateway.host in ${loaded.file ?? 'the config'}`
          : 'from --gateway-host',
        io,
        'gateway',
      );
    }
    let keep = false;
    let kept = 0;
    const daemon = await startDaemon({
      loaded,
      logger,
      host,
      pointerDir: defaultStateDir(io.env),
      ...(options.port === undefined ? {} : { port: options.port }),
      gateway: {
        enabled: gatewayOn,
        host: gatewayHost,
        ...(options.gatewayPort === undefined ? {} : { port: options.gatewayPort }),
        ...(options.modelsDir === undefined ? {} : { modelsDir: resolve(options.modelsDir) }),
      },
      ...(options.reloadConfig ? { reloadConfig: options.reloadConfig } : {}),
      ...(options.adopt === undefined ? {} : { adopt: options.adopt }),
      onShutdown: ({ keep }) => handOver?.(keep),
    });
    // SIGHUP re-reads the config like `shic reload` (without --now); the diff goes to the terminal.
    const onHangup = () => {
      daemon.reload().then(
        (report) => println(io, describeReload(report)),
        (error: unknown) =>
          io.stderr.write(
            `reload failed, nothing changed: ${error instanceof Error ? error.message : String(error)}\n`,
          ),
      );
    };
    process.on('SIGHUP', onHangup);
    try {
      println(
        io,
        `shic daemon listening on ${daemon.server.url} (pid ${process.pid}, state ${daemon.stateDir})`,
      );
      println(io, `dashboard at ${daemon.server.url}/ui/ — \`shic ui\` prints a one-time login link`);
      const adoption = daemon.adoption;
      if (adoption && adoption.adopted.length > 0) {
        const names = adoption.adopted.map((a) => `${a.deployment ?? a.instanceId} (pid ${a.pid})`);
        println(io, `adopted ${adoption.adopted.length} running server(s): ${names.join(', ')}`);
      }
      for (const s of adoption?.stopped ?? [])
        io.stderr.write(`not adopted ${s.deployment ?? s.instanceId} (pid ${s.pid}): ${s.reason}, stopped\n`);
      if (daemon.gateway) {
        const models = daemon.catalog.names();
        println(
          io,
          `gateway (OpenAI-compatible) on ${daemon.gateway.url} — models: ${models.length ? models.join(', ') : 'none'}`,
        );
      }
      const eager = daemon.catalog.names().filter((n) => daemon.catalog.get(n).start === 'eager');
      const progress = new DeploymentProgress(eager, io.stderr, interactive);
      const unwatch = watchDeploymentEvents(daemon.kernel, progress);
      const results = await daemon.startEager(stop.signal);
      unwatch();
      progress.finish();
      for (const r of results) {
        if (r.ok)
          println(
            io,
            `ready ${r.deployment} ${r.instance.instanceId} ${r.instance.endpoint?.baseUrl ?? ''}`.trim(),
          );
        else {
          const message = KernelError.isInstance(r.error)
            ? `${r.error.code}: ${r.error.message}`
            : String(r.error);
          io.stderr.write(`failed ${r.deployment}: ${message}\n`);
        }
      }
      if (!stop.signal.aborted) println(io, 'Press Ctrl-C to stop.');
      // SIGTERM (a service manager's stop or restart) and `shic restart` hand the servers over when adoption is on;
      // Ctrl-C stops them.
      const reason = await Promise.race([
        stop.stopped.then((signal) => ({ keep: signal === 'SIGTERM', signal })),
        shutdownAsked.then(({ keep }) => ({ keep, signal: 'shutdown request' })),
      ]);
      keep = reason.keep && daemon.adopts;
      logger.info({ signal: reason.signal, keep }, 'stopping');
    } finally {
      process.off('SIGHUP', onHangup);
      kept = keep
        ? daemon.kernel.listInstances().filter((i) => i.state === 'ready' || i.state === 'degraded').length
        : 0;
      await daemon.close({ keep });
    }
    println(
      io,
      kept > 0
        ? `shic daemon stopped; ${kept} server(s) kept running for the next \`shic up\` on ${daemon.stateDir} (stopped after ${Math.round(loaded.config.state.adoptGraceMs / 1000)} s if none adopts them)`
        : 'shic daemon stopped',
    );
  } finally {
    stop.dispose();
  }
}
