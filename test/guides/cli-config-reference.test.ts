// guides/cli.md embeds a config reference generated from the shic.yaml JSON Schema; this fails when it is stale.
import { readFileSync } from 'node:fs';
import { shicConfigJsonSchema } from 'self-hosted-inference-core';
import { describe, expect, it } from 'vitest';
import {
  CLI_GUIDE,
  CONFIG_REFERENCE_MARKERS,
  renderConfigReference,
  withConfigReference,
} from '../../scripts/generate-config-reference.js';

describe('renderConfigReference', () => {
  it('matches the reference in guides/cli.md (run scripts/generate-config-reference.ts when this fails)', () => {
    const guide = readFileSync(CLI_GUIDE, 'utf8');
    expect(guide).toContain(CONFIG_REFERENCE_MARKERS.start);
    expect(withConfigReference(guide, renderConfigReference())).toBe(guide);
  });

  it('lists every top-level and deployment key of the schema with its default', () => {
    const table = renderConfigReference();
    const schema = shicConfigJsonSchema() as { properties: Record<string, unknown> };
    for (const key of Object.keys(schema.properties)) expect(table).toContain(`| \`${key}\` |`);
    expect(table).toMatch(/\| `deployments\.<name>\.backend` \| string \| yes \|/);
    expect(table).toMatch(/\| `deployments\.<name>\.start` \| `eager` \\\| `on-demand` \| {2}\| `eager` \|/);
    expect(table).toMatch(/\| `control\.port` \| integer \| {2}\| `0` \| TCP port; .*; ≥ 0; ≤ 65535 \|/);
  });

  it('renders a description when the schema has one', () => {
    const table = renderConfigReference({
      type: 'object',
      properties: { port: { type: 'integer', default: 0, description: 'TCP port | 0 = any' } },
    });
    expect(table).toContain('| `port` | integer |  | `0` | TCP port \\| 0 = any |');
  });

  it('refuses a guide without the markers', () => {
    expect(() => withConfigReference('# no markers\n', 'table')).toThrow(/config-reference markers/);
  });
});
