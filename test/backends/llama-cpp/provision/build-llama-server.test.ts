import { describe, expect, it } from 'vitest';
import { parseBuildPercent } from '../../../../backends/llama-cpp/provision/build-llama-server.js';

describe('parseBuildPercent', () => {
  it('reads make-style [ NN%] prefixes', () => {
    expect(parseBuildPercent('[  7%] Building CXX object ggml/src/ggml.c.o')).toBe(7);
    expect(parseBuildPercent('[100%] Built target llama-server')).toBe(100);
  });

  it('reads ninja-style [n/total] prefixes as a percentage', () => {
    expect(parseBuildPercent('[50/200] Building CXX object x.o')).toBe(25);
  });

  it('ignores other lines', () => {
    expect(parseBuildPercent('-- Configuring done')).toBeUndefined();
    expect(parseBuildPercent('[0/0] nothing')).toBeUndefined();
  });
});
