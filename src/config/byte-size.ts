import { z } from 'zod';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)\s*$/i;
const DEVICE = /^(system|gpu\d+)$/;
const SIZE_HELP = 'write whole bytes, or a number with B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB), e.g. 16GiB';

/** Whole bytes of a size written as bytes or `<number><unit>`, or the reason it is not one. */
export function parseByteSize(value: unknown): number | { error: string } {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0
      ? value
      : { error: `${value} is not a size: ${SIZE_HELP}` };
  }
  const match = typeof value === 'string' ? SIZE.exec(value) : null;
  if (!match) return { error: `${JSON.stringify(value)} is not a size: ${SIZE_HELP}` };
  return Math.round(Number(match[1]) * UNITS[match[2]!.toLowerCase()]!);
}

/**
 * A memory size in shic.yaml: whole bytes, or a number with a unit (`512MiB`, `16GiB`, `1.5GB`: IEC units are
 * powers of 1024, SI units powers of 1000). Parsed to whole bytes; a bad one is named with how to write it.
 */
export const byteSizeSchema = z
  .union([z.number(), z.string()])
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (typeof bytes === 'number') return bytes;
    ctx.addIssue({ code: 'custom', message: bytes.error });
    return z.NEVER;
  })
  .describe('Bytes, or a number with a unit: `512MiB`, `16GiB`, `1.5GB`');

/** Sizes per device: `system` (RAM) or `gpu<N>` (an NVIDIA GPU, numbered as nvidia-smi numbers it). */
export const deviceSizesSchema = z
  .record(z.string(), byteSizeSchema)
  .superRefine((sizes, ctx) => {
    for (const device of Object.keys(sizes)) {
      if (!DEVICE.test(device)) {
        ctx.addIssue({
          code: 'custom',
          path: [device],
          message: `unknown device "${device}": devices are \`system\` or \`gpu<N>\` (e.g. gpu0, as nvidia-smi numbers it)`,
        });
      }
    }
  })
  .describe('Sizes per device: `system` or `gpu<N>`');

/** One size (system memory) or sizes per device. */
export const sizeOrDeviceSizesSchema = z
  .union([z.number(), z.string(), z.record(z.string(), z.unknown())])
  .transform((value, ctx) => {
    const parsed =
      typeof value === 'object' ? deviceSizesSchema.safeParse(value) : byteSizeSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues)
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  })
  .describe('One size for system memory (`16GiB`), or sizes per device (`{ system: 16GiB, gpu0: 20GiB }`)');
