import { describe, expect, it } from 'vitest';
import { DEFAULT_OLLAMA_ROOT, resolveOllamaRoot } from '../../../backends/ollama/index.js';

// Cases follow Ollama's own envconfig TestHost table, adjusted for a client (bind-all → loopback).
const table: Array<[string | undefined, string]> = [
  [undefined, 'http://127.0.0.1:11434'],
  ['', 'http://127.0.0.1:11434'],
  ['1.2.3.4', 'http://1.2.3.4:11434'],
  [':1234', 'http://127.0.0.1:1234'],
  ['1.2.3.4:1234', 'http://1.2.3.4:1234'],
  ['example.com', 'http://example.com:11434'],
  ['example.com:1234', 'http://example.com:1234'],
  ['0.0.0.0', 'http://127.0.0.1:11434'],
  ['0.0.0.0:8080', 'http://127.0.0.1:8080'],
  ['[::1]', 'http://[::1]:11434'],
  ['[::]', 'http://[::1]:11434'],
  ['::1', 'http://[::1]:11434'],
  ['[::1]:1337', 'http://[::1]:1337'],
  [' 1.2.3.4 ', 'http://1.2.3.4:11434'],
  ['"1.2.3.4"', 'http://1.2.3.4:11434'],
  [' " 1.2.3.4 " ', 'http://1.2.3.4:11434'],
  ["'1.2.3.4'", 'http://1.2.3.4:11434'],
  ['http://1.2.3.4', 'http://1.2.3.4'],
  ['http://1.2.3.4:4321', 'http://1.2.3.4:4321'],
  ['https://1.2.3.4', 'https://1.2.3.4'],
  ['https://1.2.3.4:4321', 'https://1.2.3.4:4321'],
  ['https://example.com/ollama', 'https://example.com/ollama'],
  ['http://0.0.0.0:11434', 'http://127.0.0.1:11434'],
  ['http://localhost:11434/', 'http://localhost:11434'],
  ['http://localhost:11434/v1', 'http://localhost:11434'],
  ['http://localhost:11434/v1/', 'http://localhost:11434'],
  ['localhost:11434/v1', 'http://localhost:11434'],
  ['https://example.com/ollama/v1/?key=1#top', 'https://example.com/ollama'],
  ['http://localhost:11434?x=1', 'http://localhost:11434'],
  ['HTTP://LocalHost:11434', 'http://localhost:11434'],
];

describe('resolveOllamaRoot', () => {
  it.each(table)('resolves OLLAMA_HOST %j to %s', (value, expected) => {
    expect(resolveOllamaRoot(value)).toBe(expected);
  });

  it('defaults to the loopback address on Ollama port 11434', () => {
    expect(DEFAULT_OLLAMA_ROOT).toBe('http://127.0.0.1:11434');
  });

  it.each([
    [':66000', 'port "66000"'],
    [':-1', 'port "-1"'],
    [':0', 'port "0"'],
    ['host:abc', 'port "abc"'],
    ['ftp://1.2.3.4', 'scheme "ftp"'],
    ['a b', 'not a valid host'],
  ])('rejects %j with invalid_boot_spec naming the problem (%s)', (value, fragment) => {
    let caught: unknown;
    try {
      resolveOllamaRoot(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({
      code: 'invalid_boot_spec',
      details: { field: 'rootUrl', received: value },
    });
    expect((caught as Error).message).toContain(fragment);
  });
});
