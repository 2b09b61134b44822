/**
 * Ollama's canonical spelling of a model name: `name` → `name:latest`; a name with a tag is kept.
 * A `:` before the last `/` belongs to a registry host (`registry:5000/ns/model`), not a tag.
 * Comparison is case-insensitive, as Ollama treats names.
 */
export function normalizeOllamaModelName(name: string): string {
  const trimmed = name.trim();
  const lastSlash = trimmed.lastIndexOf('/');
  const hasTag = trimmed.indexOf(':', lastSlash + 1) >= 0;
  return (hasTag ? trimmed : `${trimmed}:latest`).toLowerCase();
}

/** True when two Ollama model names refer to the same model (`llama3.2` equals `llama3.2:latest`). */
export function sameOllamaModel(a: string, b: string): boolean {
  return normalizeOllamaModelName(a) === normalizeOllamaModelName(b);
}
