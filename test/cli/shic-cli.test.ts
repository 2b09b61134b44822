// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config texts hold literal ${ENV} references
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import pWaitFor from 'p-wait-for';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeLlamaConfig } from '../support/llama-config.js';
import { realLlamaServer } from '../support/llama-fixture.js';
import { waitUntil } from '../support/wait-until.js';
import { isRunning, SHIC_BIN, startShicDaemon, stopShicDaemons } from './shic-process.js';

let dir: string;
let stateDir: string;
const daemons: ResultPromise[] = [];

function shic(args: string[]) {
  return execa('node', [SHIC_BIN, ...args], {
    env: { SHIC_STATE_DIR: stateDir },
    reject: false,
    timeout: 120_000,
  });
}

// Starts `shic up` in the background and waits until its control API answers.
function up(args: string[]) {
  return startShicDaemon(['up', ...args], {
    env: { SHIC_STATE_DIR: stateDir },
    stateDir,
    health: () => shic(['health', '--json']),
    daemons,
    timeoutMs: 60_000,
    intervalMs: 100,
    label: 'shic up',
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shic-cli-'));
  stateDir = join(dir, 'state');
});

afterEach(async () => {
  await stopShicDaemons(daemons);
  await rm(dir, { recursive: true, force: true });
});

describe('shic (the binary)', () => {
  it('runs up → ps → ensure → openai completion → release → stop → SIGTERM with the real llama-server', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const config = await writeLlamaConfig(join(dir, 'shic.yaml'), {
      name: 'tiny',
      modelPath,
      binaryPath,
      deployment: ['start: eager', 'modelIdentity: tiny'],
      bootSpec: ['ctxSize: 256', 'apiKey: ${TINY_KEY:-generate}'],
    });
    const { child: daemon } = await up([config]);

    await pWaitFor(async () => JSON.parse((await shic(['ps', '--json'])).stdout)[0]?.state === 'ready', {
      interval: 100,
      timeout: 60_000,
    });
    const [instance] = JSON.parse((await shic(['ps', '--json'])).stdout);
    expect(instance).toMatchObject({
      backend: 'llama-cpp',
      state: 'ready',
      metadata: { deployment: 'tiny' },
    });
    const table = await shic(['ps']);
    expect(table.stdout).toMatch(
      /ID.*DEPLOYMENT.*BACKEND.*STATE.*HEALTH.*PORT.*MEMORY.*RSS.*LEASES.*UPTIME.*RESTARTS/,
    );
    expect(table.stdout).toContain(instance.instanceId);
    // What residency charges it (measured from llama-server's own report once ready), then its measured VmRSS.
    expect(instance.memory).toMatchObject({ source: 'calibrated' });
    expect(table.stdout).toMatch(new RegExp(`${instance.instanceId}.*\\d+ MiB measured.*\\d+ MiB`));

    const ensured = await shic(['ensure', 'tiny', '--ttl', '30s', '--json']);
    expect(ensured.exitCode, ensured.stderr).toBe(0);
    const { endpoint, lease } = JSON.parse(ensured.stdout);
    expect(endpoint.healthRef).toBe(instance.instanceId);
    const client = new OpenAI({ baseURL: endpoint.baseUrl, apiKey: endpoint.headers.authorization.slice(7) });
    const completion = await client.chat.completions.create({
      model: endpoint.modelIdentity,
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 4,
    });
    expect(completion.choices[0]?.message).toBeDefined();
    expect((await shic(['ps', '--json'])).stdout).not.toContain(endpoint.headers.authorization.slice(7));

    expect((await shic(['release', lease.leaseRef])).exitCode).toBe(0);
    const stopped = await shic(['stop', instance.instanceId, '--json']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).state).toBe('stopped');
    expect(isRunning(instance.pid)).toBe(false);

    daemon.kill('SIGTERM');
    const result = await daemon;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(existsSync(join(stateDir, 'control.json'))).toBe(false);
  });

  it('finds llama-server through SHIC_LLAMA_SERVER for a deployment naming none; renew extends; events stream to the end', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const config = join(dir, 'shic.yaml');
    await writeFile(
      config,
      [
        'deployments:',
        '  tiny:',
        '    backend: llama-cpp',
        '    bootSpec:',
        `      model: ${modelPath}`,
        '      ctxSize: 256',
        '',
      ].join('\n'),
    );
    // No llama-server on PATH and an empty cache: only SHIC_LLAMA_SERVER can find it.
    const env = {
      SHIC_STATE_DIR: stateDir,
      SHIC_LLAMA_SERVER: binaryPath,
      PATH: dirname(process.execPath),
      XDG_CACHE_HOME: join(dir, 'empty-cache'),
    };
    const cli = (args: string[]) =>
      execa(process.execPath, [SHIC_BIN, ...args], { env, reject: false, timeout: 120_000 });
    await startShicDaemon(['up', config], {
      env,
      stateDir,
      health: () => cli(['health', '--json']),
      daemons,
      timeoutMs: 60_000,
      intervalMs: 100,
      label: 'shic up',
    });
    const events = execa(process.execPath, [SHIC_BIN, 'events', '--json', '--types', 'instance.,lease.'], {
      env,
      reject: false,
      all: true,
    });
    let printed = '';
    events.stdout?.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
    });
    // Complete lines only: a chunk may end mid-line.
    const seenEvents = (): Array<{ type: string; ttlMs?: number }> =>
      printed
        .split('\n')
        .slice(0, -1)
        .map((line) => JSON.parse(line));
    await pWaitFor(
      async () =>
        (
          await fetch(`${JSON.parse(readFileSync(join(stateDir, 'control.json'), 'utf8')).url}/metrics`, {
            headers: {
              authorization: `Bearer ${readFileSync(join(stateDir, 'control.token'), 'utf8').trim()}`,
            },
          }).then((r) => r.text())
        ).includes('shic_control_streams_open 1'),
      { timeout: 30_000 },
    );
    const ensured = await cli(['ensure', 'tiny', '--json', '--ttl', '30s']);
    expect(ensured.exitCode, ensured.stderr).toBe(0);
    const { lease } = JSON.parse(ensured.stdout) as { lease: { leaseRef: string; expiresAt: number } };
    const renewed = await cli(['renew', lease.leaseRef, '--ttl', '10m', '--json']);
    expect(renewed.exitCode, renewed.stderr).toBe(0);
    const after = JSON.parse(renewed.stdout) as { leaseRef: string; ttlMs: number; expiresAt: number };
    expect(after).toMatchObject({ leaseRef: lease.leaseRef, ttlMs: 600_000 });
    expect(after.expiresAt - lease.expiresAt).toBeGreaterThan(500_000);
    await pWaitFor(() => seenEvents().some((e) => e.type === 'lease.renewed' && e.ttlMs === 600_000), {
      timeout: 30_000,
    });
    const renewUnknown = await cli(['renew', 'lease_nope']);
    expect(renewUnknown.exitCode).toBe(1);
    expect(renewUnknown.stderr).toMatch(/^error \[lease_not_found\]: /);
    // Stopping the daemon: the stream carries the last instance.stopped, then `shic events` ends on its own.
    for (const d of daemons) d.kill('SIGTERM');
    const finished = await events;
    expect(finished.exitCode).toBe(0);
    expect(
      seenEvents().map((e) => e.type),
      printed,
    ).toEqual(expect.arrayContaining(['lease.acquired', 'lease.renewed', 'instance.stopped']));
    expect(finished.stderr).toContain('event stream ended');
  });

  it('stops the spawned llama-server when up gets SIGTERM, leaving no process behind', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const config = join(dir, 'shic.yaml');
    await writeFile(
      config,
      `deployments:\n  tiny:\n    backend: llama-cpp\n    bootSpec: { model: ${modelPath}, binaryPath: ${binaryPath}, ctxSize: 256 }\n`,
    );
    const { child: daemon } = await up([config]);
    await pWaitFor(async () => JSON.parse((await shic(['ps', '--json'])).stdout)[0]?.state === 'ready', {
      interval: 100,
      timeout: 60_000,
    });
    const [instance] = JSON.parse((await shic(['ps', '--json'])).stdout);
    expect(isRunning(instance.pid)).toBe(true);
    const logs = await shic(['logs', instance.instanceId, '-n', '3', '--json']);
    expect(JSON.parse(logs.stdout).lines.length).toBeGreaterThan(0);
    daemon.kill('SIGTERM');
    const result = await daemon;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(isRunning(instance.pid)).toBe(false);
  });

  it('refuses a second up on the same state directory with a clear message', async () => {
    await up([]);
    const second = await shic(['up']);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toMatch(/error \[daemon_running\]: Another shic daemon \(pid \d+\) already runs/);
  });

  it('refuses a non-loopback --host or control.host with exit 2 before starting anything', async () => {
    const flag = await shic(['up', '--host', '0.0.0.0']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toContain('refusing to serve the control API on 0.0.0.0 (from --host)');
    expect(flag.stderr).toContain('--allow-remote');
    const config = join(dir, 'remote.yaml');
    await writeFile(config, 'control:\n  host: 0.0.0.0\ndeployments: {}\n');
    const fromConfig = await shic(['up', config]);
    expect(fromConfig.exitCode).toBe(2);
    expect(fromConfig.stderr).toContain(`(from control.host in ${config})`);
    const spawn = await shic([
      'spawn',
      'llama-cpp',
      '--model',
      join(dir, 'm.gguf'),
      '--control-host',
      '0.0.0.0',
    ]);
    expect(spawn.exitCode).toBe(2);
    expect(spawn.stderr).toContain('(from --control-host)');
    // Nothing started: no lock, no control files.
    expect(existsSync(stateDir)).toBe(false);
  });

  it('listens beyond loopback with --allow-remote, warning about it', async () => {
    const { child: daemon } = await up(['--host', '0.0.0.0', '--allow-remote']);
    daemon.kill('SIGTERM');
    const result = await daemon;
    expect(result.exitCode).toBe(0);
    expect(result.all).toContain('warning: the control API will listen on 0.0.0.0, not loopback');
  });

  it('checks a config, pointing at the YAML path and line, and prints the JSON Schema', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'deployments:\n  tiny:\n    backend: llama-cpp\n    lease: { ttlMs: "soon" }\n');
    const check = await shic(['config', 'check', bad]);
    expect(check.exitCode).toBe(2);
    expect(check.stderr).toContain(`${bad}:4:21 deployments.tiny.lease.ttlMs`);
    const schema = await shic(['config', 'schema']);
    expect(schema.exitCode).toBe(0);
    expect(JSON.parse(schema.stdout)).toMatchObject({
      type: 'object',
      properties: { deployments: { type: 'object' } },
    });
    // examples/shic.yaml as shipped, beside the model it names (what `shic tiny-model` writes).
    const { binaryPath, modelPath } = await realLlamaServer();
    await mkdir(join(dir, 'models'));
    await copyFile(modelPath, join(dir, 'models', 'tiny-llama.gguf'));
    await copyFile(join(import.meta.dirname, '../../examples/shic.yaml'), join(dir, 'example.yaml'));
    const good = await execa('node', [SHIC_BIN, 'config', 'check', join(dir, 'example.yaml')], {
      env: { SHIC_LLAMA_SERVER: binaryPath },
      reject: false,
    });
    expect(good.exitCode, good.stderr).toBe(0);
  });

  it('prints a failed start once, readably, with stdout and stderr piped', async () => {
    const { binaryPath, modelPath } = await realLlamaServer();
    const config = await writeLlamaConfig(join(dir, 'failing.yaml'), {
      name: 'broken',
      modelPath,
      binaryPath,
      deployment: ['start: eager'],
      bootSpec: ['extraArgs: ["--no-such-flag"]'],
    });
    const child = execa('node', [SHIC_BIN, 'up', config], {
      env: { SHIC_STATE_DIR: stateDir },
      reject: false,
      all: true,
    });
    daemons.push(child);
    let live = '';
    child.all?.on('data', (chunk: Buffer) => {
      live += chunk.toString();
    });
    await waitUntil(() => /^Press Ctrl-C to stop\./m.test(live) || child.exitCode !== null, {
      timeoutMs: 30_000,
      message: 'shic up to finish its eager starts',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; output so far:\n${live}`);
    });
    child.kill('SIGTERM');
    await child;
    expect(live).toMatch(/^failed broken: process_exited: .*invalid argument: --no-such-flag/m);
    expect(live.split('invalid argument: --no-such-flag').length - 1, live).toBe(1);
  });

  it('refuses static deployment mistakes at config check and at up (exit 2, YAML line), starting nothing', async () => {
    const { modelPath } = await realLlamaServer();
    const config = join(dir, 'static.yaml');
    await writeFile(
      config,
      [
        'deployments:',
        '  missing:',
        '    backend: llama-cpp',
        '    bootSpec:',
        '      model: ./nope.gguf',
        '  notgguf:',
        '    backend: llama-cpp',
        '    bootSpec:',
        `      model: ${config}`,
        '  typo:',
        '    backend: llama-cpp',
        '    bootSpec:',
        `      model: ${modelPath}`,
        '      ctx_size: 512',
        '  nobinary:',
        '    backend: llama-cpp',
        '    bootSpec:',
        `      model: ${modelPath}`,
        '      binaryPath: /nonexistent/llama-server',
        '',
      ].join('\n'),
    );
    for (const args of [
      ['config', 'check', config],
      ['up', config],
    ]) {
      const result = await shic(args);
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr).toContain(`${config}:5:14 deployments.missing.bootSpec.model: model_not_found`);
      expect(result.stderr).toContain(`${config}:9:14 deployments.notgguf.bootSpec.model: invalid_model`);
      expect(result.stderr).toContain(
        `${config}:14:17 deployments.typo.bootSpec.ctx_size: invalid_boot_spec`,
      );
      expect(result.stderr).toContain(
        `${config}:19:19 deployments.nobinary.bootSpec.binaryPath: binary_not_found`,
      );
      expect(result.stderr.match(/error \[invalid_config\]/g)).toHaveLength(1);
    }
    expect(existsSync(join(stateDir, 'control.json'))).toBe(false);
  });

  it('exits 2 on usage errors and 1 when no daemon runs', async () => {
    expect((await shic(['nonsense'])).exitCode).toBe(2);
    expect((await shic(['ensure'])).exitCode).toBe(2);
    expect((await shic(['ensure', 'tiny', '--ttl', 'soon'])).exitCode).toBe(2);
    const loud = await shic(['up', '--log-level', 'loud']);
    expect(loud.exitCode).toBe(2);
    expect(loud.stderr).toContain(
      'expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
    const ps = await shic(['ps']);
    expect(ps.exitCode).toBe(1);
    expect(ps.stderr).toContain('error [daemon_unreachable]');
  });
});
