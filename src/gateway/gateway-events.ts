/** How a gateway request ended. */
export type RequestOutcome = 'completed' | 'failed' | 'aborted';

/** The record of one gateway request (`shic requests`, `GET /v1/requests`, `request.completed|failed|aborted`). */
export interface RequestRecord {
  requestId: string;
  /** The `model` the client asked for. */
  model: string;
  /** The deployment it resolved to; null when it resolved to none. */
  deployment: string | null;
  /** The instance that served it (the last one, after a retry). */
  instanceId: string | null;
  /** Request path, e.g. `/v1/chat/completions`. */
  route: string;
  stream: boolean;
  outcome: RequestOutcome;
  /** HTTP status sent to the client (upstream's when it answered); null when the client left before any. */
  httpStatus: number | null;
  /** Stable error code (`unknown_model`, `queue_full`, `model_wait_timeout`, `upstream_failed`, `client_closed`, …). */
  errorCode: string | null;
  errorMessage: string | null;
  /** Epoch ms of arrival. */
  startedAt: number;
  /** Time waiting for the model (queue, load, lease slot), in ms. */
  waitMs: number | null;
  /** True when this request waited for the model to load. */
  coldStart: boolean;
  /** Arrival to the first byte of the answer's body, in ms. */
  ttftMs: number | null;
  /** Arrival to the last byte, in ms. */
  durationMs: number;
  promptTokens: number | null;
  completionTokens: number | null;
  /** Completion tokens per second of generation (first byte to last byte). */
  tokensPerSecond: number | null;
  /** Upstream attempts: 2 when a connection failure before any byte was retried. */
  attempts: number;
}

/** Fields on every request event. */
export interface RequestEventBase {
  requestId: string;
  model: string;
  deployment: string | null;
  /** Epoch ms. */
  at: number;
}

/** The gateway's telemetry events (guides/gateway.md). */
export interface GatewayEventMap {
  'request.started': RequestEventBase & { route: string; stream: boolean };
  'request.first_token': RequestEventBase & { instanceId: string; ttftMs: number; waitMs: number };
  'request.completed': RequestEventBase & RequestRecord;
  'request.failed': RequestEventBase & RequestRecord;
  'request.aborted': RequestEventBase & RequestRecord;
}
