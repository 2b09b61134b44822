// The peers the gateway is measured against, run for real: nginx as a keep-alive reverse proxy in front of a
// llama-server, and llama-server's own router mode (`--models-dir`, `--models-max`).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import getPort from 'get-port';
import { request } from 'undici';
import type { BenchContext } from './benchmark.js';

/** A running peer: its base URL (no `/v1`). */
export interface Peer {
  url: string;
}

async function waitForAnswer(url: string, child: ResultPromise, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const res = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
      await res.body.dump();
      if (res.statusCode < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within 60 s`);
    await sleep(20);
  }
}

/** Where Debian's nginx is, or undefined (the figure is then skipped with a note: `apt-get install nginx`). */
export function findNginx(): string | undefined {
  return ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
}

/** nginx `proxy_pass` to `upstream` with upstream keep-alive and no buffering (how one proxies SSE). */
export async function startNginx(context: BenchContext, nginx: string, upstream: string): Promise<Peer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-nginx-'));
  const port = await getPort({ host: '127.0.0.1' });
  const { hostname, port: upstreamPort } = new URL(upstream);
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, name)};`;
  const conf = [
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes 1;',
    'daemon off;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `  ${temp(n)}`),
    `  upstream llama { server ${hostname}:${upstreamPort}; keepalive 64; }`,
    `  server { listen 127.0.0.1:${port};`,
    '    location / { proxy_pass http://llama; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }',
    '  }',
    '}',
  ].join('\n');
  await writeFile(path.join(dir, 'nginx.conf'), conf);
  const child = execa(
    nginx,
    ['-e', path.join(dir, 'error.log'), '-p', dir, '-c', path.join(dir, 'nginx.conf')],
    {
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'ignore',
      reject: false,
    },
  );
  context.defer(async () => {
    child.kill('SIGTERM');
    await child;
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForAnswer(`${url}/health`, child, 'nginx');
  return { url };
}

/** llama-server in router mode over a folder holding `models` (name → GGUF path), at most `modelsMax` loaded. */
export async function startRouter(
  context: BenchContext,
  binaryPath: string,
  models: Record<string, string>,
  options: { modelsMax: number; args?: string[] },
): Promise<Peer & { pid: number | undefined; unload(model: string): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shic-bench-router-'));
  await mkdir(dir, { recursive: true });
  for (const [name, file] of Object.entries(models)) await symlink(file, path.join(dir, `${name}.gguf`));
  const port = await getPort({ host: '127.0.0.1' });
  const child = execa(
    binaryPath,
    [
      '--models-dir',
      dir,
      '--models-max',
      String(options.modelsMax),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      ...(options.args ?? []),
    ],
    { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore', reject: false },
  );
  context.defer(async () => {
    child.kill('SIGTERM');
    await child;
    await rm(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForAnswer(`${url}/v1/models`, child, 'llama-server router');
  return {
    url,
    pid: child.pid,
    async unload(model) {
      const res = await request(`${url}/models/unload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model }),
      });
      await res.body.dump();
      // The unload is asynchronous: wait until the router lists the model as unloaded again.
      for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(5)) {
        const list = await request(`${url}/v1/models`);
        const body = (await list.body.json()) as { data: Array<{ id: string; status?: { value?: string } }> };
        if (body.data.find((m) => m.id === model)?.status?.value === 'unloaded') return;
      }
      throw new Error(`router did not unload ${model}`);
    },
  };
}

/** A llama-server started by hand, the way a script without a kernel would: spawn, poll `/health`. */
export interface RawLlamaServer {
  child: ResultPromise;
  /** Root URL (no `/v1`). */
  base: string;
}

/**
 * Spawns llama-server on a free port and polls `/health` every 1 ms until it answers 200 (the fastest a
 * hand-written script can notice readiness): the baseline of the cold-start and swap benchmarks.
 * @throws when the server exits first.
 */
export async function spawnRawLlamaServer(
  binaryPath: string,
  args: readonly string[],
): Promise<RawLlamaServer> {
  const port = await getPort({ host: '127.0.0.1' });
  const child = execa(binaryPath, [...args, '--host', '127.0.0.1', '--port', String(port)], {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'ignore',
    reject: false,
  });
  const base = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await request(`${base}/health`)
      .then(async (r) => {
        await r.body.dump();
        return r.statusCode === 200;
      })
      .catch(() => false);
    if (ok) return { child, base };
    if (child.exitCode !== null) throw new Error(`raw llama-server exited with ${child.exitCode}`);
    await sleep(1);
  }
}
