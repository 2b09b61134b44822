import Table from 'cli-table3';
import type { RequestRecord } from '../../gateway/gateway-events.js';

const ms = (value: number | null) => (value === null ? '-' : `${Math.round(value)}ms`);

/** The `shic requests` table: one row per gateway request, newest first. */
export function renderRequestsTable(records: RequestRecord[]): string {
  if (records.length === 0) return 'No requests.';
  const table = new Table({
    head: [
      'TIME',
      'MODEL',
      'DEPLOYMENT',
      'ROUTE',
      'OUTCOME',
      'STATUS',
      'WAIT',
      'TTFT',
      'TOTAL',
      'TOKENS',
      'TOK/S',
    ],
    style: { head: [], border: [] },
  });
  for (const r of records) {
    table.push([
      new Date(r.startedAt).toISOString().slice(11, 23),
      r.model || '-',
      r.deployment ?? '-',
      r.route,
      r.errorCode ? `${r.outcome} (${r.errorCode})` : r.outcome,
      r.httpStatus ?? '-',
      `${ms(r.waitMs)}${r.coldStart ? ' cold' : ''}`,
      ms(r.ttftMs),
      ms(r.durationMs),
      r.completionTokens ?? '-',
      r.tokensPerSecond === null ? '-' : r.tokensPerSecond.toFixed(1),
    ]);
  }
  return table.toString();
}
