// Prints a two-column table to the console (visible in CI logs; vitest shows console output of tests).

/** Prints `rows` under `title`, the first column padded to its widest cell. */
export function printTable(title: string, rows: Array<[string, string]>): void {
  const width = Math.max(title.length, ...rows.map(([k]) => k.length));
  const lines = [`── ${title} ${'─'.repeat(Math.max(0, width - title.length))}`];
  for (const [key, value] of rows) lines.push(`  ${key.padEnd(width)}  ${value}`);
  console.log(lines.join('\n'));
}
