import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler gets: the parsed parts of one request. */
export interface RouteRequest {
  /** Decoded `:name` path segments. */
  params: Record<string, string>;
  /** The query string as an object (the last value wins for a repeated key). */
  query: Record<string, string>;
  /** The parsed JSON body, or undefined when there was none. */
  body: unknown;
  /** How the caller proved itself: the bearer token, a dashboard session (CSRF checked), or nothing (open routes). */
  auth: RouteAuth;
  raw: IncomingMessage;
  res: ServerResponse;
  /** Aborted when the client goes away before the answer is written, or when the server shuts down. */
  signal: AbortSignal;
}

/** How a request was authenticated. */
export type RouteAuth = 'bearer' | 'session' | 'none';

/** What a handler answers: JSON, text with a content type, or `streamed` when it wrote the response itself. */
export type RouteOutcome = { json: unknown } | { text: string; contentType: string } | { streamed: true };

/** A route handler. */
export type RouteHandler = (request: RouteRequest) => Promise<RouteOutcome>;

interface Route {
  method: string;
  pattern: string;
  segments: string[];
  handler: RouteHandler;
}

/** A matched route: its handler, its pattern (safe to log: no values) and decoded params. */
export interface RouteMatch {
  handler: RouteHandler;
  pattern: string;
  params: Record<string, string>;
}

/**
 * The control API's routing table: exact segments and `:name` params, nothing else (no wildcards, no regexes),
 * so what a path can reach is obvious.
 */
export class HttpRouter {
  readonly #routes: Route[] = [];

  /** Adds a route, e.g. `add('GET', '/v1/instances/:id', handler)`. */
  add(method: string, pattern: string, handler: RouteHandler): this {
    this.#routes.push({ method, pattern, segments: pattern.split('/').slice(1), handler });
    return this;
  }

  /**
   * The route for a method and a raw (still percent-encoded) path, or undefined.
   * @throws URIError when a param segment is not valid percent-encoding.
   */
  match(method: string, path: string): RouteMatch | undefined {
    const parts = path.split('/').slice(1);
    for (const route of this.#routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const fits = route.segments.every((segment, i) => {
        const part = parts[i]!;
        if (segment.startsWith(':')) {
          if (part === '') return false;
          params[segment.slice(1)] = decodeURIComponent(part);
          return true;
        }
        return segment === part;
      });
      if (fits) return { handler: route.handler, pattern: route.pattern, params };
    }
    return undefined;
  }
}
