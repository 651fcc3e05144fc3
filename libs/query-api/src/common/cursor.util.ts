import { BadRequestException } from '@nestjs/common';

/** Cursors are opaque to clients: base64url JSON, so the keyset behind them can change without breaking them. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(text: string, valid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestException('cursor: expected the nextCursor of a previous page');
  }
  if (!valid(value)) throw new BadRequestException('cursor: expected the nextCursor of a previous page');
  return value;
}

/** The page size asked for, within the configured row limit. */
export function pageSize(limit: number | undefined, maxRows: number, fallback = 100): number {
  if (limit !== undefined && limit > maxRows) {
    throw new BadRequestException(`limit: expected at most ${maxRows}`);
  }
  return limit ?? Math.min(fallback, maxRows);
}
