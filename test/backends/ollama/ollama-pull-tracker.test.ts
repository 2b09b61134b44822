import { afterEach, describe, expect, it } from 'vitest';
import { OllamaPullTracker } from '../../../backends/ollama/index.js';
import { waitUntil } from '../../support/wait-until.js';
import { type OllamaStandIn, startOllamaStandIn } from './ollama-stand-in-process.js';

let standIn: OllamaStandIn | undefined;
afterEach(async () => {
  await standIn?.kill();
  standIn = undefined;
});

describe('OllamaPullTracker', () => {
  it('starts one pull per instance however often it is asked (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--pull-steps', '3']);
    const tracker = new OllamaPullTracker();
    const conn = { rootUrl: standIn.url, headers: {} };
    const first = tracker.start('i-1', conn, 'm', () => {});
    expect(tracker.start('i-1', conn, 'm', () => {})).toBe(first);
    await waitUntil(() => first.state === 'succeeded', { message: 'the pull to finish' });
    expect((await standIn.requests()).filter((r) => r.path === '/api/pull')).toHaveLength(1);
  });

  it('aborts a pull no readiness probe watches any more (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--pull-steps', '400', '--pull-step-ms', '25']);
    const tracker = new OllamaPullTracker({ abandonAfterMs: 200 });
    const pull = tracker.start('i-1', { rootUrl: standIn.url, headers: {} }, 'big-model', () => {});
    await waitUntil(() => pull.state === 'failed', { message: 'the abandoned pull to stop' });
    expect(pull.error?.name).toBe('AbortError');
    const installed = await (await fetch(`${standIn.url}/api/tags`)).json();
    expect(installed).toEqual({ models: [] });
  });

  it('cancel aborts a running pull and forgets it (Ollama stand-in)', async () => {
    standIn = await startOllamaStandIn(['--pull-steps', '400', '--pull-step-ms', '25']);
    const tracker = new OllamaPullTracker();
    const pull = tracker.start('i-1', { rootUrl: standIn.url, headers: {} }, 'big-model', () => {});
    tracker.cancel('i-1');
    expect(tracker.get('i-1')).toBeUndefined();
    await waitUntil(() => pull.state === 'failed', { message: 'the cancelled pull to stop' });
  });
});
