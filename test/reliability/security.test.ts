// Security of the control plane, end to end through the real `shic up` (real llama-server with a known API
// key): bearer tokens (missing, wrong, near-miss and other lengths are rejected identically), body cap,
// path traversal, loopback binding, file modes, and no secret anywhere in what the daemon and the CLI print.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/lifecycle-harness.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { type LineChild, startLineChild } from './support/crash-round.js';
import { printTable } from './support/print-table.js';
import { SecretScanner } from './support/secret-scanner.js';
import { badModes } from './support/soak-monitor.js';

const SHIC = fileURLToPath(new URL('../../bin/shic.js', import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'shic-security-'));
const stateDir = path.join(root, 'state');
const apiKey = `sk-sec-${randomBytes(16).toString('hex')}`;
const scanner = new SecretScanner([apiKey]);
let daemon: LineChild;
let url: string;
let token: string;

const env = () => ({ PATH: process.env.PATH ?? '', SHIC_STATE_DIR: stateDir });

async function call(
  method: 'GET' | 'POST' | 'DELETE',
  route: string,
  headers: Record<string, string>,
  body?: string,
) {
  const response = await request(`${url}${route}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}
const auth = () => ({ authorization: `Bearer ${token}` });

async function shic(args: string[]) {
  const result = await execa(process.execPath, [SHIC, ...args], {
    env: env(),
    reject: false,
    timeout: 120_000,
  });
  scanner.scan(`shic ${args[0]} stdout`, result.stdout);
  scanner.scan(`shic ${args[0]} stderr`, result.stderr);
  return result;
}

beforeAll(async () => {
  const { binaryPath, modelPath } = await realLlamaServer();
  const config = path.join(root, 'shic.yaml');
  writeFileSync(
    config,
    [
      'logLevel: trace',
      'deployments:',
      '  tiny:',
      '    backend: llama-cpp',
      '    start: eager',
      '    bootSpec:',
      `      model: ${JSON.stringify(modelPath)}`,
      `      binaryPath: ${JSON.stringify(binaryPath)}`,
      '      ctxSize: 256',
      `      apiKey: ${apiKey}`,
      '',
    ].join('\n'),
  );
  daemon = startLineChild([SHIC, 'up', config], env());
  await daemon.waitForLine((line) => line.startsWith('ready tiny'), 120_000);
  url = (JSON.parse(readFileSync(path.join(stateDir, 'control.json'), 'utf8')) as { url: string }).url;
  token = readFileSync(path.join(stateDir, 'control.token'), 'utf8').trim();
  scanner.add(token);
}, 180_000);

afterAll(async () => {
  daemon?.child.kill('SIGTERM');
  await daemon?.child;
  printTable(
    'secret scan (chars scanned)',
    [...scanner.scanned].map(([k, v]) => [k, String(v)]),
  );
  rmSync(root, { recursive: true, force: true });
});

describe('control API authentication', () => {
  it('rejects missing, wrong, near-miss and other-length tokens identically with 401', async () => {
    const wrong = [
      undefined,
      '',
      'Bearer ',
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      `Bearer ${'x'.repeat(token.length)}`,
      `Bearer ${'x'.repeat(1)}`,
      `Bearer ${'x'.repeat(4096)}`,
      `Basic ${token}`,
      token,
    ];
    const answers = await Promise.all(
      wrong.map((authorization) =>
        call('GET', '/v1/instances', authorization === undefined ? {} : { authorization }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer');
      expect(answer.text).toBe(answers[0]!.text);
      expect(answer.text).not.toContain(token);
    }
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ error: { code: 'unauthorized' } });
    expect((await call('GET', '/v1/instances', auth())).status).toBe(200);
  });

  it('caps the request body (413 body_too_large), before parsing it', async () => {
    const big = JSON.stringify({ deployment: 'tiny', pad: 'x'.repeat(2 * 1024 * 1024) });
    const answer = await call(
      'POST',
      '/v1/endpoints/ensure',
      { ...auth(), 'content-type': 'application/json' },
      big,
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('never serves files through path traversal in instance and log routes', async () => {
    const routes = [
      '/v1/instances/..%2F..%2F..%2F..%2Fetc%2Fpasswd/logs',
      '/v1/instances/../../../../etc/passwd/logs',
      '/v1/instances/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/v1/instances/..%252F..%252Fetc%252Fpasswd/logs?n=10',
      '/v1/instances/%00/logs',
      '/v1/leases/..%2F..%2Fcontrol.token',
    ];
    for (const route of routes) {
      const answer = await call('GET', route, auth());
      expect([400, 404]).toContain(answer.status);
      expect(answer.text).not.toContain('root:x:0:0');
      expect(answer.text).not.toContain(token);
    }
  });
});

describe('state directory', () => {
  it('holds only 0600 files in 0700 directories while the daemon runs', () => {
    expect(existsSync(path.join(stateDir, 'processes'))).toBe(true);
    expect(badModes(stateDir)).toEqual([]);
  });
});

describe('secrets in output', () => {
  it('never print the API key or the bearer token in logs, events, snapshots, ps --json or error messages', async () => {
    const events = await request(`${url}/v1/events`, { headers: auth() });
    let streamed = '';
    events.body.on('data', (chunk: Buffer) => {
      streamed += chunk.toString('utf8');
    });
    expect((await shic(['ps', '--json'])).exitCode).toBe(0);
    await shic(['health', '--json']);
    const instances = await call('GET', '/v1/instances', auth());
    scanner.scan('GET /v1/instances', instances.text);
    const id = (JSON.parse(instances.text) as { instances: Array<{ instanceId: string }> }).instances[0]!
      .instanceId;
    scanner.scan(
      'GET /v1/instances/:id/logs',
      (await call('GET', `/v1/instances/${id}/logs?n=1000`, auth())).text,
    );
    // An ensure that fails validation, with the key in the offending boot spec: the error must not echo it.
    const bad = await call(
      'POST',
      '/v1/endpoints/ensure',
      { ...auth(), 'content-type': 'application/json' },
      JSON.stringify({
        request: {
          requestId: 'r',
          targetPreference: { backend: 'llama-cpp', bootSpec: { model: 7, apiKey } },
        },
        consumer: {
          consumer: 'c',
          acceptedRuntimeKinds: ['service'],
          acceptedManagementModes: ['kernel_managed'],
          acceptedProtocols: ['openai_chat_completions'],
        },
        context: { runId: 'r', attemptId: 'a' },
        options: { ownerRef: 'o' },
      }),
    );
    expect(bad.status).toBe(400);
    scanner.scan('error responses', bad.text);
    const renewUnknown = await call(
      'POST',
      `/v1/leases/${token}/renew`,
      { ...auth(), 'content-type': 'application/json' },
      '{}',
    );
    expect(renewUnknown.status).toBe(404);
    // A stop produces events and log lines about the instance's end.
    expect((await shic(['stop', id])).exitCode).toBe(0);
    await waitUntil(() => streamed.includes('instance.stopped'), {
      timeoutMs: 30_000,
      message: 'the stop event',
    });
    events.body.destroy();
    scanner.scan('GET /v1/events (SSE)', streamed);
    scanner.scan('shic up output (trace logs)', daemon.lines.join('\n'));
    expect(daemon.lines.length).toBeGreaterThan(10);
    expect(scanner.leaks).toEqual([]);
  });
});

describe('secrets in contract errors', () => {
  // Once a gap: contract errors (src/contracts/define-contract.ts) echoed the value of an unknown field even
  // when its name says credential (`token`, `apiKey`, `password`). They now answer `[redacted]`.
  it('do not echo the value of a credential-named field back in a 400', async () => {
    const answer = await call(
      'POST',
      '/v1/endpoints/ensure',
      { ...auth(), 'content-type': 'application/json' },
      JSON.stringify({ deployment: 'tiny', token }),
    );
    expect(answer.status).toBe(400);
    expect(answer.text).not.toContain(token);
    // Still a useful error: it names the field and says its value was withheld.
    expect(answer.text).toContain('"token"');
    expect(answer.text).toContain('[redacted]');
  });
});

describe('control API binding', () => {
  // Once a gap: `shic up --host 0.0.0.0` only printed a warning and listened. It now refuses (exit 2) unless
  // `--allow-remote` is passed.
  it('refuses a non-loopback address unless explicitly allowed', async () => {
    const dir = path.join(root, 'remote');
    mkdirSync(dir, { recursive: true });
    const remote = startLineChild([SHIC, 'up', '--host', '0.0.0.0'], {
      PATH: process.env.PATH ?? '',
      SHIC_STATE_DIR: dir,
    });
    try {
      const listening = await waitUntil(
        () => existsSync(path.join(dir, 'control.json')) || remote.child.exitCode !== null,
        { timeoutMs: 60_000, message: 'shic up to listen or exit' },
      ).then(() => existsSync(path.join(dir, 'control.json')));
      expect(listening).toBe(false);
      expect((await remote.child).exitCode).toBe(2);
      expect(remote.lines.join('\n')).toMatch(
        /refusing to serve the control API on 0\.0\.0\.0.*--allow-remote/s,
      );
    } finally {
      remote.child.kill('SIGTERM');
      await remote.child;
    }
  });
});
