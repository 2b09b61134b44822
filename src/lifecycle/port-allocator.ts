import getPort from 'get-port';

/**
 * A free TCP port on `host`, found by binding to port 0 (get-port). The port is only free at the moment of
 * the check: a start that then loses the bind race retries with a new port.
 * @param host interface to check. @default '127.0.0.1'
 */
export function allocatePort(host = '127.0.0.1'): Promise<number> {
  return getPort({ host });
}
