import {
  ConformanceViolation,
  checkManifest,
  checkManifestTruthfulness,
} from 'self-hosted-inference-core/testing';
import { describe, expect, it } from 'vitest';
import { conformanceTestBackend } from './conformance-test-backend.js';
import { rejection } from './run-with.js';

const spec = { backend: 'conformance-spawned' };

describe('checkManifestTruthfulness', () => {
  it('returns the validated plan of a backend whose manifest tells the truth', async () => {
    const plan = await checkManifestTruthfulness(conformanceTestBackend(), spec, 'spawned');
    expect(plan).toMatchObject({ startupKind: 'spawned', managementMode: 'kernel_managed' });
    expect(plan.transport?.executionSurface).toBe('local_subprocess');
  });

  it('fails loudly when the manifest lies about its startup kind, naming the rule and the failed check', async () => {
    const backend = conformanceTestBackend({ manifestStartupKind: 'attach_existing_service' });
    const error = await rejection(checkManifestTruthfulness(backend, spec));
    expect(error).toBeInstanceOf(ConformanceViolation);
    expect(error.message).toContain(
      'Backend conformance rule "manifest-truthfulness" failed for backend "conformance-spawned"',
    );
    expect(error.message).toContain('fails validateStartupPlan');
    expect(error.message).toContain('fails manifest_startup_kind');
    expect(error.message).toContain('"declared":"attach_existing_service","actual":"spawned"');
  });

  it('fails when the suite expects another kind than the manifest declares', async () => {
    const error = await rejection(checkManifestTruthfulness(conformanceTestBackend(), spec, 'attached'));
    expect(error.message).toContain(
      'the suite says "attached" but the manifest declares another startup kind',
    );
  });
});

describe('checkManifest', () => {
  it('fails when manifest.backend is not the backend id', () => {
    const backend = { ...conformanceTestBackend(), id: 'renamed' };
    expect(() => checkManifest(backend)).toThrow(
      /rule "manifest" failed for backend "renamed": manifest\.backend must equal the backend id\. Seen: \{"id":"renamed","manifestBackend":"conformance-spawned"\}/,
    );
  });

  it('fails when the manifest does not parse, naming the bad field', () => {
    const honest = conformanceTestBackend();
    const backend = { ...honest, manifest: { ...honest.manifest, startupKind: 'forked' as never } };
    expect(() => checkManifest(backend)).toThrow(/rule "manifest" failed.*does not parse.*startupKind/);
  });
});
