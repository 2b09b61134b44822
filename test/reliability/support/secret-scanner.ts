// Scans everything a run produces (log lines, events, snapshots, error messages, CLI output) for secret
// values, without keeping the text: only byte counts per source and the places a secret was seen.
import { Writable } from 'node:stream';

/** Where a secret showed up. */
export interface SecretLeak {
  source: string;
  secret: string;
  /** Up to 120 characters around the hit, with the secret itself masked. */
  excerpt: string;
}

/** Scans text for a fixed set of secret values. */
export class SecretScanner {
  readonly #secrets: string[];
  readonly leaks: SecretLeak[] = [];
  /** Characters scanned per source. */
  readonly scanned = new Map<string, number>();

  constructor(secrets: string[]) {
    this.#secrets = secrets.filter((s) => s.length >= 8);
  }

  /** Adds a secret learned during the run (e.g. a bearer token read from a file). */
  add(secret: string): void {
    if (secret.length >= 8 && !this.#secrets.includes(secret)) this.#secrets.push(secret);
  }

  /** Scans one text; records a leak per secret found. */
  scan(source: string, text: string): void {
    this.scanned.set(source, (this.scanned.get(source) ?? 0) + text.length);
    for (const secret of this.#secrets) {
      const at = text.indexOf(secret);
      if (at === -1) continue;
      const excerpt = text
        .slice(Math.max(0, at - 60), at + secret.length + 60)
        .replaceAll(secret, '<SECRET>');
      this.leaks.push({ source, secret: `${secret.slice(0, 4)}…`, excerpt });
    }
  }

  /** Scans `JSON.stringify(value)` (how a value reaches a log shipper, an HTTP body or a file). */
  scanJson(source: string, value: unknown): void {
    this.scan(source, JSON.stringify(value) ?? '');
  }

  /** A writable stream (for a pino destination) whose every chunk is scanned and dropped. */
  sink(source: string): Writable {
    let lines = 0;
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        const text = chunk.toString('utf8');
        lines += text.split('\n').length - 1;
        this.scanned.set(`${source} (lines)`, lines);
        this.scan(source, text);
        done();
      },
    });
  }
}
