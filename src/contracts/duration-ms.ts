import { z } from 'zod';

/** The longest delay a Node timer honours (2³¹ − 1 ms, about 24.8 days): every duration the kernel accepts fits. */
export const MAX_DURATION_MS = 2_147_483_647;

/** A duration in whole ms, 0 allowed: the one schema contracts and configs build their ms fields from. */
export const msSchema = z.number().int().nonnegative().max(MAX_DURATION_MS);

/** A duration in whole ms, at least 1. */
export const positiveMsSchema = z.number().int().positive().max(MAX_DURATION_MS);
