import ora, { type Ora } from 'ora';

/** What a deployment is doing, for the `up` progress display. */
export interface DeploymentStatus {
  phase: string;
  detail?: string;
  /** 0–100 when known. */
  percent?: number;
  /** Terminal outcome. */
  done?: 'ok' | 'failed';
}

/**
 * Per-deployment progress while `shic up` starts its eager deployments: a live ora spinner with one line per
 * deployment on a terminal, plain `[name] phase detail` lines otherwise (one per phase change or 10 %).
 */
export class DeploymentProgress {
  readonly #status = new Map<string, DeploymentStatus>();
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #spinner: Ora | undefined;
  readonly #lastPrinted = new Map<string, string>();

  constructor(
    names: string[],
    stream: NodeJS.WritableStream & { isTTY?: boolean },
    interactive = Boolean(stream.isTTY) && ((stream as { columns?: number }).columns ?? 0) > 0,
  ) {
    this.#stream = stream;
    for (const name of names) this.#status.set(name, { phase: 'waiting' });
    this.#spinner =
      interactive && names.length > 0
        ? ora({ stream: stream as NodeJS.WriteStream, text: this.#text() }).start()
        : undefined;
  }

  /** Records a new status for a deployment and redraws (or prints a line). */
  update(name: string, status: DeploymentStatus): void {
    this.#status.set(name, status);
    if (this.#spinner) {
      this.#spinner.text = this.#text();
      return;
    }
    const percent = status.percent === undefined ? '' : ` ${Math.floor(status.percent / 10) * 10}%`;
    const key = `${status.phase}${percent}`;
    if (this.#lastPrinted.get(name) === key) return;
    this.#lastPrinted.set(name, key);
    this.#stream.write(`${this.#line(name, status)}\n`);
  }

  /** Stops the spinner and prints each deployment's final line. */
  finish(): void {
    if (!this.#spinner) return;
    this.#spinner.stop();
    for (const [name, status] of this.#status) {
      const symbol = status.done === 'ok' ? '✔' : status.done === 'failed' ? '✖' : '•';
      this.#stream.write(`${symbol} ${this.#line(name, status)}\n`);
    }
  }

  #line(name: string, s: DeploymentStatus): string {
    const percent = s.percent === undefined ? '' : ` ${Math.round(s.percent)}%`;
    return `[${name}] ${s.phase}${percent}${s.detail ? ` — ${s.detail}` : ''}`;
  }

  #text(): string {
    return [...this.#status].map(([name, s]) => this.#line(name, s)).join('\n  ');
  }
}
