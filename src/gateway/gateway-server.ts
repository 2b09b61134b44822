import { createServer } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackHost } from '../control/control-server.js';
import type { Gateway } from './create-gateway.js';

/** A listening gateway. */
export interface GatewayServer {
  /** Base URL of the OpenAI API, e.g. `http://127.0.0.1:8080/v1`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Closes the gateway (grace, then abort) and the listener. */
  close(graceMs?: number): Promise<void>;
}

/** Options of {@link startGatewayServer}. */
export interface GatewayServerOptions {
  gateway: Gateway;
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @default 0 */
  port?: number;
  logger?: Logger;
}

/**
 * Serves a gateway on its own listener (separate from the control API and its token).
 * @throws when the address cannot be bound.
 */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer({ keepAliveTimeout: 30_000 }, options.gateway.handle);
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const urlHost = isIPv6(host) ? `[${host}]` : host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (!isLoopbackHost(host)) options.logger?.warn({ host, port }, 'gateway listens beyond loopback');
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/v1`,
    host,
    port,
    close(graceMs) {
      closing ??= (async () => {
        server.close();
        server.closeIdleConnections();
        await options.gateway.close(graceMs);
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
