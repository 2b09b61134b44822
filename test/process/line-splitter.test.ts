import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/process/line-splitter.js';

function split(chunks: Array<string | Buffer>, maxLineLength?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((l) => lines.push(l), { maxLineLength });
  for (const c of chunks) splitter.write(c);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins a line split across chunks and emits a last line without newline at the end', () => {
    expect(split([Buffer.from('hel'), Buffer.from('lo\nwor'), Buffer.from('ld')])).toEqual([
      'hello',
      'world',
    ]);
  });

  it('treats CRLF as one line break even when the CR and LF arrive in different chunks', () => {
    expect(split([Buffer.from('a\r'), Buffer.from('\nb\r\nc\n')])).toEqual(['a', 'b', 'c']);
  });

  it('breaks on a lone CR (progress redraws) and keeps empty lines', () => {
    expect(split(['10%\r20%\r\n\nend\n'])).toEqual(['10%', '20%', '', 'end']);
  });

  it('decodes a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('héllo ✓\n');
    expect(split([bytes.subarray(0, 2), bytes.subarray(2, 8), bytes.subarray(8)])).toEqual(['héllo ✓']);
  });

  it('cuts a runaway line into pieces of maxLineLength', () => {
    const lines = split([`${'x'.repeat(25)}\n`], 10);
    expect(lines).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('yields the same lines however the input is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '\n', '\r\n', 'é'), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (parts, cuts) => {
          const bytes = Buffer.from(parts.join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
          const chunks: Buffer[] = [];
          let last = 0;
          for (const p of points) {
            chunks.push(bytes.subarray(last, p));
            last = p;
          }
          chunks.push(bytes.subarray(last));
          expect(split(chunks)).toEqual(split([bytes]));
        },
      ),
    );
  });
});
