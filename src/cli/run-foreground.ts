import type { Level } from 'pino';
import type { LoadedConfig } from '../config/load-config.js';
import { KernelError } from '../errors/kernel-error.js';
import { type CliIo, onStopSignal, println } from './cli-context.js';
import { createCliLogger } from './cli-logger.js';
import { DeploymentProgress } from './render/deployment-progress.js';
import { watchDeploymentEvents } from './render/watch-deployment-events.js';

/** Flags shared by `up`, `spawn` and `attach`. */
export interface ForegroundOptions {
  /** Control API interface (explicit: a non-loopback value prints a warning). */
  host?: string;
  port?: number;
  logLevel?: Level | 'silent';
}

/**
 * Runs the daemon in the foreground: control API, eager deployments with a progress display, then waits for
 * SIGINT/SIGTERM and stops everything it owns (attached daemons are left alone).
 */
export async function runForeground(
  loaded: LoadedConfig,
  options: ForegroundOptions,
  io: CliIo,
): Promise<void> {
  const stop = onStopSignal();
  try {
    const { isLoopbackHost } = await import('../control/control-server.js');
    const { startDaemon } = await import('../control/control-daemon.js');
    const interactive = Boolean(io.stderr.isTTY);
    const level = options.logLevel ?? loaded.config.logLevel ?? (interactive ? 'warn' : 'info');
    const logger = createCliLogger({ level });
    const host = options.host ?? loaded.config.control.host;
    if (!isLoopbackHost(host)) {
      io.stderr.write(
        `warning: the control API will listen on ${host}, not loopback: anyone who can reach it and holds the ` +
          'token controls this daemon. Bind to 127.0.0.1 unless you need remote access.\n',
      );
    }
    const daemon = await startDaemon({
      loaded,
      logger,
      host,
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    try {
      println(
        io,
        `shic daemon listening on ${daemon.server.url} (pid ${process.pid}, state ${daemon.stateDir})`,
      );
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
      const signal = await stop.stopped;
      logger.info({ signal }, 'stopping');
    } finally {
      await daemon.close();
    }
    println(io, 'shic daemon stopped');
  } finally {
    stop.dispose();
  }
}
