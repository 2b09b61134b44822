import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { EventOf } from '../telemetry/event-bus.js';
import type { GatewayEventMap } from './gateway-events.js';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Prometheus metrics of the gateway, built from its `request.*` events (per deployment: requests by outcome,
 * duration, wait for the model, time to first token, tokens and tokens/s), registered on the control API's
 * registry so one `/metrics` shows kernel and gateway.
 */
export class GatewayMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #wait: Histogram;
  readonly #ttft: Histogram;
  readonly #tokensPerSecond: Histogram;
  readonly #tokens: Counter;

  /** @param inFlight reads how many gateway requests are being served. */
  constructor(registry: Registry, inFlight: () => number) {
    const registers = [registry];
    new Gauge({
      name: 'shic_gateway_requests_in_flight',
      help: 'Gateway requests being served.',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    this.#requests = new Counter({
      name: 'shic_gateway_requests_total',
      help: 'Finished gateway requests by deployment, outcome (completed, failed, aborted) and error code.',
      labelNames: ['deployment', 'outcome', 'code'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'shic_gateway_request_duration_seconds',
      help: 'Gateway requests from arrival to the last byte, in seconds.',
      labelNames: ['deployment', 'outcome'],
      buckets: SECONDS,
      registers,
    });
    this.#wait = new Histogram({
      name: 'shic_gateway_model_wait_seconds',
      help: 'Time a request waited for its model (queue, load, lease slot), in seconds.',
      labelNames: ['deployment'],
      buckets: SECONDS,
      registers,
    });
    this.#ttft = new Histogram({
      name: 'shic_gateway_ttft_seconds',
      help: 'Time from arrival to the first byte of the answer, in seconds.',
      labelNames: ['deployment'],
      buckets: SECONDS,
      registers,
    });
    this.#tokensPerSecond = new Histogram({
      name: 'shic_gateway_tokens_per_second',
      help: 'Completion tokens per second of generation, per request.',
      labelNames: ['deployment'],
      buckets: [1, 5, 10, 20, 40, 80, 160, 320, 640, 1280],
      registers,
    });
    this.#tokens = new Counter({
      name: 'shic_gateway_tokens_total',
      help: 'Tokens the gateway saw in answers, by kind (prompt, completion).',
      labelNames: ['deployment', 'kind'],
      registers,
    });
  }

  /** Feeds one gateway event (subscribe with `gateway.on('*', metrics.observe)`). */
  readonly observe = (event: EventOf<GatewayEventMap>): void => {
    if (event.type === 'request.started' || event.type === 'request.first_token') return;
    const deployment = event.deployment ?? '';
    this.#requests.inc({ deployment, outcome: event.outcome, code: event.errorCode ?? '' });
    this.#duration.observe({ deployment, outcome: event.outcome }, event.durationMs / 1000);
    if (event.deployment === null) return;
    if (event.waitMs !== null) this.#wait.observe({ deployment }, event.waitMs / 1000);
    if (event.ttftMs !== null) this.#ttft.observe({ deployment }, event.ttftMs / 1000);
    if (event.tokensPerSecond !== null) this.#tokensPerSecond.observe({ deployment }, event.tokensPerSecond);
    if (event.promptTokens !== null) this.#tokens.inc({ deployment, kind: 'prompt' }, event.promptTokens);
    if (event.completionTokens !== null)
      this.#tokens.inc({ deployment, kind: 'completion' }, event.completionTokens);
  };
}
