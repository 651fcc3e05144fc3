import { z } from 'zod';

/** Field shapes shared by sections; environment variables arrive as strings, so numbers and lists coerce. */
export const configFields = {
  port: () => z.coerce.number().int().min(0).max(65535),
  positiveInt: () => z.coerce.number().int().positive(),
  nonNegativeInt: () => z.coerce.number().int().min(0),
  flag: () =>
    z
      .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
      .transform((v) => v === true || v === 'true' || v === '1'),
  /** "a:1,b:2" or a YAML list. */
  list: () =>
    z
      .union([z.string(), z.array(z.string())])
      .transform((v) =>
        (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0),
      ),
  hostPortList: () =>
    configFields
      .list()
      .pipe(
        z
          .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'))
          .min(1, 'expected at least one host:port'),
      ),
  url: () => z.string().url(),
};
