// A kernel with the llama-cpp backend, a captured debug-level pino log, recorded events, and helpers to talk
// to the published endpoint through the `openai` client.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { pino } from 'pino';
import {
  createKernel,
  type EndpointDescriptor,
  exposeSecret,
  type Kernel,
  type KernelEvent,
} from 'self-hosted-inference-core';
import { createLlamaCppBackend } from '../../../backends/llama-cpp/index.js';
import { realLlamaServer } from '../../support/llama-fixture.js';

/** A kernel under test and everything it logged and emitted. */
export interface KernelHarness {
  kernel: Kernel;
  stateDir: string;
  binaryPath: string;
  modelPath: string;
  /** Every pino line, raw JSON text. */
  logLines: string[];
  events: KernelEvent[];
  /** Every file the kernel wrote under its state dir, concatenated. */
  stateFiles(): Promise<string>;
  close(): Promise<void>;
}

/** Creates a kernel with the llama-cpp backend (real llama-server binary) logging at debug into memory. */
export async function startKernelHarness(): Promise<KernelHarness> {
  const { binaryPath, modelPath } = await realLlamaServer();
  const stateDir = await mkdtemp(path.join(tmpdir(), 'shic-llama-kernel-'));
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const kernel = createKernel({ stateDir, logger, backends: [createLlamaCppBackend({ binaryPath })] });
  const events: KernelEvent[] = [];
  kernel.on('*', (event) => events.push(event));
  return {
    kernel,
    stateDir,
    binaryPath,
    modelPath,
    logLines,
    events,
    async stateFiles() {
      const dir = path.join(stateDir, 'processes');
      const names = await readdir(dir).catch(() => [] as string[]);
      const texts = await Promise.all(names.map((n) => readFile(path.join(dir, n), 'utf8').catch(() => '')));
      return texts.join('\n');
    },
    async close() {
      await kernel.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** The raw headers a client must send to an endpoint (Secrets exposed, for the wire only). */
export function wireHeaders(endpoint: EndpointDescriptor): Record<string, string> {
  return Object.fromEntries(Object.entries(endpoint.headers).map(([k, v]) => [k, exposeSecret(v)]));
}

/** An `openai` client for an endpoint: its base URL, and its bearer key (or a dummy when it has none). */
export function openaiClientFor(endpoint: EndpointDescriptor): OpenAI {
  const auth = wireHeaders(endpoint).authorization;
  return new OpenAI({
    baseURL: endpoint.baseUrl,
    apiKey: auth ? auth.replace(/^Bearer /, '') : 'no-key',
    maxRetries: 0,
    timeout: 60_000,
  });
}

/** True while a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
