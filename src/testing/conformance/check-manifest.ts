import type { Backend } from '../../backend/backend.js';
import { type BackendManifest, safeParseBackendManifest } from '../../contracts/backend-manifest.js';
import { ConformanceViolation } from './conformance-violation.js';

/**
 * Rule `manifest`: the manifest parses as a BackendManifest, names the backend's own id, and the backend is
 * a v1 backend with the methods the kernel calls.
 * @throws ConformanceViolation naming what was wrong.
 */
export function checkManifest(backend: Backend): BackendManifest {
  const id = typeof backend?.id === 'string' ? backend.id : undefined;
  if (backend?.specificationVersion !== 'v1') {
    throw new ConformanceViolation('manifest', id, 'specificationVersion must be the literal "v1"', {
      specificationVersion: backend?.specificationVersion,
    });
  }
  const missing = (['startupPlan', 'probeReadiness', 'checkHealth'] as const).filter(
    (name) => typeof backend[name] !== 'function',
  );
  if (missing.length > 0) {
    throw new ConformanceViolation('manifest', id, 'the backend lacks methods the kernel calls', { missing });
  }
  const parsed = safeParseBackendManifest(backend.manifest);
  if (!parsed.success) {
    throw new ConformanceViolation(
      'manifest',
      id,
      `the manifest does not parse as a BackendManifest (${parsed.error.message})`,
      parsed.error.issues,
    );
  }
  if (parsed.data.backend !== backend.id) {
    throw new ConformanceViolation('manifest', id, 'manifest.backend must equal the backend id', {
      id: backend.id,
      manifestBackend: parsed.data.backend,
    });
  }
  return parsed.data;
}
