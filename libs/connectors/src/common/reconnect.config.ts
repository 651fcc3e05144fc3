import { z } from 'zod';

/** How every connector waits between attempts to reach its peer: capped exponential backoff. */
export const reconnectSchema = z
  .strictObject({
    initialMs: z.number().int().positive().default(1000),
    maxMs: z.number().int().positive().default(30_000),
  })
  .default({ initialMs: 1000, maxMs: 30_000 });
