// relayBody over real sockets: a client that stops reading pauses the upstream (bounded memory), a client that
// leaves destroys it, and the bytes arrive unchanged.
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { relayBody } from '../../src/gateway/relay-body.js';
import { waitUntil } from '../support/wait-until.js';

const CLIENT_GONE = new Error('client gone');
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
});

/** An upstream body of `total` bytes, produced only when read (counts what was pulled). */
function upstream(total: number) {
  const state = { pulled: 0, body: undefined as unknown as Readable };
  state.body = new Readable({
    highWaterMark: 16 * 1024,
    read() {
      if (state.pulled >= total) return void this.push(null);
      const chunk = Buffer.alloc(16 * 1024, state.pulled % 251);
      state.pulled += chunk.length;
      this.push(chunk);
    },
  });
  return state;
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<number> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('relayBody', () => {
  it('pauses the upstream while the client does not read, then delivers every byte', async () => {
    const source = upstream(256 * 1024 * 1024);
    let relayed: Promise<void> | undefined;
    const port = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      relayed = relayBody(source.body, res, () => {}, CLIENT_GONE);
    });
    const socket = connect(port, '127.0.0.1');
    socket.pause();
    socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    // The relay stops pulling once the client's socket buffers are full.
    await waitUntil(() => source.pulled > 0 && source.body.isPaused());
    expect(source.pulled).toBeLessThan(32 * 1024 * 1024);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    await relayed;
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received).toBeGreaterThan(256 * 1024 * 1024);
    expect(source.pulled).toBe(256 * 1024 * 1024);
  });

  it('rejects with the client-gone reason and destroys the upstream when the client leaves', async () => {
    const source = upstream(256 * 1024 * 1024);
    let relayed: Promise<void> | undefined;
    const port = await serve((_req, res) => {
      res.writeHead(200);
      relayed = relayBody(source.body, res, () => {}, CLIENT_GONE);
    });
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    await waitUntil(() => source.pulled > 1024 * 1024);
    socket.destroy();
    await expect(relayed).rejects.toBe(CLIENT_GONE);
    expect(source.body.destroyed).toBe(true);
  });
});
