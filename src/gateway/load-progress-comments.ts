import type { ServerResponse } from 'node:http';
import type { KernelEvent } from '../telemetry/kernel-events.js';
import type { GatewayKernel } from './gateway-kernel.js';

/**
 * While a streaming request waits for its model, tells the client so in SSE comments (`: loading …`), which
 * OpenAI clients ignore (llama-swap's `sendLoadingState`). It commits the response to `200 text/event-stream`
 * only once the wait passes `delayMs`, so warm requests are untouched; after that, errors can only be sent as
 * an SSE `data: {"error": …}` event.
 */
export class LoadProgressComments {
  readonly #res: ServerResponse;
  readonly #kernel: GatewayKernel;
  readonly #deployment: string;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #started = 0;
  /** True once the response was committed to SSE by this notice. */
  committed = false;

  constructor(res: ServerResponse, kernel: GatewayKernel, deployment: string, delayMs = 250) {
    this.#res = res;
    this.#kernel = kernel;
    this.#deployment = deployment;
    this.#started = performance.now();
    this.#timer = setTimeout(() => this.#commit(), delayMs);
  }

  #comment(text: string): void {
    if (!this.#res.writableEnded) this.#res.write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`);
  }

  #commit(): void {
    if (this.#res.headersSent || this.#res.destroyed) return;
    this.committed = true;
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.#comment(`waiting for ${this.#deployment} to load`);
    this.#unsubscribe = this.#kernel.on('*', (event: KernelEvent) => {
      if (event.type !== 'instance.progress' && event.type !== 'instance.starting') return;
      if (this.#kernel.lookupInstance(event.instanceId)?.metadata.deployment !== this.#deployment) return;
      if (event.type === 'instance.starting')
        this.#comment(`starting ${this.#deployment} (attempt ${event.attempt})`);
      else
        this.#comment(
          `${event.phase}${event.percent === undefined ? '' : ` ${event.percent}%`}: ${event.message}`,
        );
    });
    this.#heartbeat = setInterval(() => {
      const seconds = Math.round((performance.now() - this.#started) / 1000);
      this.#comment(`still waiting for ${this.#deployment} (${seconds} s)`);
    }, 2_000);
  }

  /** Stops commenting (the model is there, or the wait failed). */
  stop(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#heartbeat);
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}
