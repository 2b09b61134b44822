import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { shicConfigJsonSchema } from '../../src/config/shic-config.js';

const examplesDir = join(import.meta.dirname, '../../examples');

describe('shicConfigJsonSchema', () => {
  // Round-trip: a zod schema rebuilt from the exported JSON Schema must accept every example config.
  it('is a JSON Schema that accepts every example config and rejects unknown keys', async () => {
    const jsonSchema = shicConfigJsonSchema();
    expect(jsonSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const rebuilt = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
    const files = (await readdir(examplesDir)).filter((f) => /\.ya?ml$/.test(f));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const doc = parse(await readFile(join(examplesDir, file), 'utf8'));
      const result = rebuilt.safeParse(doc);
      expect(result.success, `${file}: ${result.success ? '' : result.error.message}`).toBe(true);
    }
    expect(rebuilt.safeParse({ deployments: { a: { backend: 'ollama', colour: 'red' } } }).success).toBe(
      false,
    );
    expect(rebuilt.safeParse({ control: { port: 'abc' } }).success).toBe(false);
  });

  // The descriptions feed the generated reference in guides/cli.md and editor hovers; the consumer manifest
  // (src/contracts) documents itself only in JSDoc, so its fields are not walked.
  it('describes every key of shic.yaml outside the consumer manifest', () => {
    interface Node {
      description?: string;
      properties?: Record<string, Node>;
      additionalProperties?: Node | boolean;
    }
    const undescribed: string[] = [];
    const walk = (node: Node, prefix: string): void => {
      for (const [name, child] of Object.entries(node.properties ?? {})) {
        const key = prefix ? `${prefix}.${name}` : name;
        if (!child.description) undescribed.push(key);
        if (name !== 'consumer') walk(child, key);
      }
      if (typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${prefix}.<name>`);
    };
    walk(shicConfigJsonSchema() as Node, '');
    expect(undescribed).toEqual([]);
  });
});
