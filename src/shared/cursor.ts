// Keyset pages: opaque cursors (base64url of a JSON array of the sort key of the last row returned)
// and pages built from one row more than asked, which tells whether a next page exists.
import { BadUserInputError } from './errors.ts';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // The API writes numbers as safe integers (positions); anything else never came from it.
    const fits = (part: unknown, i: number) => typeof part === shape[i] && (typeof part !== 'number' || Number.isSafeInteger(part));
    if (Array.isArray(key) && key.length === shape.length && key.every(fits)) return key;
  } catch {
    // fall through to the error below
  }
  throw new BadUserInputError('INVALID_CURSOR', `The cursor "${cursor.slice(0, 40)}" is not one this API returned.`);
}

export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new BadUserInputError('PAGE_SIZE_OUT_OF_RANGE', `first must be between 0 and ${MAX_PAGE_SIZE}, got ${first}.`);
  }
  return first;
}

export interface PageInfoShape {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface ConnectionShape<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfoShape;
}

export function toConnection<T>(rows: T[], pageSize: number, cursorOf: (row: T) => string): ConnectionShape<T> {
  const page = rows.slice(0, pageSize);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > pageSize,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
