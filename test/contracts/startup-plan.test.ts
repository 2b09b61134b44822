import { describe, expect, it } from 'vitest';
import { parseStartupPlan, safeParseStartupPlan } from '../../src/contracts/startup-plan.js';
import { Secret } from '../../src/secret/secret.js';
import { attachedPlanInput, spawnedPlanInput } from '../support/manifests.js';

describe('parseStartupPlan', () => {
  it('fills transport, timing, restart and template defaults', () => {
    const plan = parseStartupPlan(spawnedPlanInput({ transport: { command: 'llama-server' } }));
    expect(plan.transport).toEqual({
      command: 'llama-server',
      args: [],
      env: {},
      executionSurface: 'local_subprocess',
      unsetEnv: [],
    });
    expect(plan.readyTimeoutMs).toBe(60_000);
    expect(plan.restartPolicy.maxRestarts).toBe(5);
    expect(plan.endpointTemplate.headers).toEqual({});
  });

  it('accepts a Secret header value and keeps the same Secret', () => {
    const key = new Secret('sk-plan');
    const plan = parseStartupPlan(
      attachedPlanInput({
        endpointTemplate: {
          protocol: 'ollama_native',
          baseUrl: 'http://127.0.0.1:11434',
          headers: { authorization: key },
        },
      }),
    );
    expect(plan.endpointTemplate.headers.authorization).toBe(key);
  });

  it('accepts idleShutdownMs null meaning never', () => {
    expect(parseStartupPlan(attachedPlanInput({ idleShutdownMs: null })).idleShutdownMs).toBeNull();
  });

  it.each([
    {
      over: { transport: { command: 'x', args: ['--port', 8080] } },
      path: 'transport.args.1',
      received: 8080,
    },
    { over: { transport: { command: '' } }, path: 'transport.command', received: '' },
    { over: { transport: { command: 'x', shell: true } }, path: 'transport.shell', received: true },
    { over: { transport: { command: 'x', env: { A: 1 } } }, path: 'transport.env.A', received: 1 },
    { over: { port: 70_000 }, path: 'port', received: 70_000 },
    { over: { readyTimeoutMs: 2_147_483_648 }, path: 'readyTimeoutMs', received: 2_147_483_648 },
    { over: { restartPolicy: { jitter: 2 } }, path: 'restartPolicy.jitter', received: 2 },
    { over: { restartPolicy: { mode: 'always' } }, path: 'restartPolicy.mode', received: 'always' },
    {
      over: { endpointTemplate: { protocol: 'openai_chat_completions', baseUrl: 'not a url' } },
      path: 'endpointTemplate.baseUrl',
      received: 'not a url',
    },
    {
      over: { endpointTemplate: { protocol: 'x', baseUrl: 'http://h/v1', headers: { authorization: 42 } } },
      path: 'endpointTemplate.headers.authorization',
      received: '[redacted]', // a credential-named field: its value is never echoed
    },
  ])(
    'rejects $path with invalid_startup_plan and reports the value it received',
    ({ over, path, received }) => {
      const result = safeParseStartupPlan(spawnedPlanInput(over));
      expect(result.success).toBe(false);
      if (result.success) return;
      expect(result.error.code).toBe('invalid_startup_plan');
      expect(result.error.contract).toBe('StartupPlan');
      expect(result.error.issues).toEqual([{ path, message: expect.any(String), received }]);
      expect(() => parseStartupPlan(spawnedPlanInput(over))).toThrow(result.error.message);
    },
  );
});
