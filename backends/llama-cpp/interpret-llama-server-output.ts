import type { ProcessEvent, ProcessEventVerdict } from 'self-hosted-inference-core';
import { isRepackBuffer, parseLlamaBufferReport } from './parse-llama-memory-report.js';

/** Lines meaning the server could not bind its port (lost the race for it). */
const ADDRESS_IN_USE = /couldn't bind HTTP server socket|address already in use|EADDRINUSE/i;

/**
 * Lines meaning the model is loaded and the server is serving: `llama_server: model loaded` / `listening on`
 * (current builds) and `main: model loaded` / `main: server is listening on` (older builds).
 */
const READY = /\b(?:main|llama_server): (?:model loaded|(?:server is |HTTP server is )?listening on)\b/;

/** Load milestones llama-server prints, shown as progress while the instance starts. */
const PROGRESS: { pattern: RegExp; message: (m: RegExpExecArray) => string; percent?: number }[] = [
  { pattern: /load_model: loading model '([^']+)'/, message: (m) => `loading model ${m[1]}`, percent: 10 },
  {
    pattern: /llama_model_loader: loaded meta data with (\d+) key-value pairs/,
    message: (m) => `read ${m[1]} metadata entries`,
  },
  { pattern: /load_tensors: loading model tensors/, message: () => 'loading tensors' },
  {
    pattern: /load_model: initializing, (n_slots = \d+)/,
    message: (m) => `initializing context (${m[1]})`,
    percent: 80,
  },
  { pattern: /warming up the model/, message: () => 'warming up the model', percent: 90 },
];

/**
 * Reads one line of llama-server output: a bind failure → `addressInUse`; a buffer allocation (`-lv 4`) →
 * `memoryReport`; a load milestone → `progress`; "model loaded" / "listening on" → a `ready` hint (the kernel
 * confirms it with a probe). Other lines → `undefined`.
 * @param args the server's arguments: with `--no-mmap`, repacked weight buffers add to the model's memory.
 */
export function interpretLlamaServerOutput(
  event: ProcessEvent,
  args?: readonly string[],
): ProcessEventVerdict | undefined {
  if (event.type === 'exit') return undefined;
  const { line } = event;
  if (ADDRESS_IN_USE.test(line)) return { addressInUse: true };
  const buffer = parseLlamaBufferReport(line);
  if (buffer) {
    // A repacked copy of memory-mapped weights takes the place of the mapping's pages (see isRepackBuffer).
    const overlaps = buffer.kind === 'model' && isRepackBuffer(buffer.buffer) && !args?.includes('--no-mmap');
    return { memoryReport: { device: buffer.device, bytes: overlaps ? 0 : buffer.bytes, kind: buffer.kind } };
  }
  const ready = READY.exec(line);
  if (ready) {
    const message = ready[0].includes('model loaded') ? 'model loaded' : 'server listening';
    return { ready: true, progress: { phase: 'loading', message, percent: 100 } };
  }
  for (const step of PROGRESS) {
    const match = step.pattern.exec(line);
    if (match) {
      return {
        progress: {
          phase: 'loading',
          message: step.message(match),
          ...(step.percent === undefined ? {} : { percent: step.percent }),
        },
      };
    }
  }
  return undefined;
}
