// Per-item results of bulk ingestion (PRODUCT §2): each item is ACCEPTED, STALE (its sequence
// number is not newer than the stored one, tombstones included) or REJECTED with a code. Only
// whole-request problems (too many items, a foreign connection) throw.
import { BadUserInputError, ForbiddenError } from '../../shared/errors.ts';

export const MAX_BATCH = 100;
export const MAX_SEQUENCE_NUMBER = Number.MAX_SAFE_INTEGER;
/**
 * PRODUCT §10 (no input may crash the server): objects and arrays in an input (properties) nest at
 * most this many levels, the field itself being the first. Generous for real documents, and far below the depth at which
 * JSON.stringify or PostgreSQL's JSON parser run out of stack.
 */
export const MAX_INPUT_DEPTH = 64;

export type IngestionStatus = 'ACCEPTED' | 'STALE' | 'REJECTED';

export interface IngestionItemResult {
  index: number;
  externalId: string | null;
  status: IngestionStatus;
  code: string | null;
  message: string | null;
}

export interface IngestionPayload {
  results: IngestionItemResult[];
  acceptedCount: number;
  staleCount: number;
  rejectedCount: number;
}

export class ItemRejection extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A value no column can hold, found before it reaches SQL; callers turn it into their own error. */
export interface InputProblem {
  code: 'INVALID_CHARACTER' | 'PROPERTIES_TOO_DEEP';
  message: string;
}

// PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an unpaired surrogate (which a
// text column would silently turn into U+FFFD). With the u flag a valid pair is one code point.
const UNSTORABLE_CHARACTER = /[\u0000\p{Cs}]/u;

interface Visit {
  value: unknown;
  depth: number;
  /** The field, key or index that leads to the value from its parent; the root has no parent. */
  key: string | number;
  parent: Visit | null;
}

/**
 * PRODUCT §10 (no input may crash the server): the first string or key anywhere in `input` that
 * PostgreSQL cannot store, or the first object or array nested deeper than MAX_INPUT_DEPTH below
 * a field of `input`. An explicit stack, and no descent past the limit, keep a 20,000-deep value
 * as cheap as a 65-deep one; every item of every ingestion call goes through here.
 */
export function findUnstorable(input: unknown): InputProblem | null {
  const stack: Visit[] = [{ value: input, depth: 0, key: '', parent: null }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const { value, depth } = visit;
    if (typeof value === 'string') {
      const bad = unstorableCharacter(value);
      if (bad) return { code: 'INVALID_CHARACTER', message: `${pathOf(visit)} contains ${bad}, which cannot be stored.` };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_INPUT_DEPTH) {
      return { code: 'PROPERTIES_TOO_DEEP', message: `${pathOf(topFieldOf(visit))} nests objects and arrays deeper than ${MAX_INPUT_DEPTH} levels.` };
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, key: i, parent: visit });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const bad = unstorableCharacter(keys[i]);
      if (bad) return { code: 'INVALID_CHARACTER', message: `A key of ${pathOf(visit)} contains ${bad}, which cannot be stored.` };
      stack.push({ value: (value as Record<string, unknown>)[keys[i]], depth: depth + 1, key: keys[i], parent: visit });
    }
  }
  return null;
}

function unstorableCharacter(text: string): string | null {
  const found = UNSTORABLE_CHARACTER.exec(text);
  if (!found) return null;
  return found[0] === '\u0000' ? 'U+0000 (NUL)' : 'an unpaired UTF-16 surrogate';
}

function topFieldOf(visit: Visit): Visit {
  let top = visit;
  while (top.parent?.parent) top = top.parent;
  return top;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `properties.a[2]["odd key"]`; keys are cut at 40 characters and escaped as JSON. */
function pathOf(visit: Visit): string {
  let path = '';
  for (let at: Visit | null = visit; at?.parent; at = at.parent) {
    const { key } = at;
    if (typeof key === 'number') path = `[${key}]${path}`;
    else if (IDENTIFIER.test(key)) path = `.${key}${path}`;
    else path = `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]${path}`;
  }
  return path.startsWith('.') ? path.slice(1) : path || 'the item';
}

export function requireBatchSize(items: readonly unknown[], what: string): void {
  if (items.length > MAX_BATCH) {
    throw new BadUserInputError('BATCH_TOO_LARGE', `At most ${MAX_BATCH} ${what} per call; got ${items.length}.`);
  }
}

export function checkExternalId(externalId: string, what = 'externalId'): void {
  if (externalId.length < 1 || externalId.length > 255) {
    throw new ItemRejection('INVALID_EXTERNAL_ID', `${what} must be 1 to 255 characters, got ${externalId.length}.`);
  }
}

export function checkSequenceNumber(usn: number): void {
  if (!Number.isSafeInteger(usn) || usn < 0) {
    throw new ItemRejection('INVALID_SEQUENCE_NUMBER', `updateSequenceNumber must be an integer from 0 to ${MAX_SEQUENCE_NUMBER}, got ${usn}.`);
  }
}

export const accepted = (index: number, externalId: string | null): IngestionItemResult => ({ index, externalId, status: 'ACCEPTED', code: null, message: null });
export const stale = (index: number, externalId: string | null): IngestionItemResult => ({
  index,
  externalId,
  status: 'STALE',
  code: null,
  message: 'A write with the same or a newer updateSequenceNumber is stored already.',
});
export const rejected = (index: number, externalId: string | null, rejection: ItemRejection): IngestionItemResult => ({
  index,
  externalId,
  status: 'REJECTED',
  code: rejection.code,
  message: rejection.message,
});

export function summarize(results: IngestionItemResult[]): IngestionPayload {
  const count = (status: IngestionStatus) => results.filter((r) => r.status === status).length;
  return { results, acceptedCount: count('ACCEPTED'), staleCount: count('STALE'), rejectedCount: count('REJECTED') };
}

/** What storing one valid item came to; a rejection found only against stored data is possible. */
export type StoreOutcome = 'ACCEPTED' | 'STALE' | ItemRejection;

/**
 * Runs each item through `findUnstorable` and then `validate` (pure, may throw ItemRejection) and
 * hands the valid ones to `store`, which returns ACCEPTED or STALE per item; rejected items never
 * reach the store, so one bad item cannot fail the statements of the others.
 */
export async function ingestEach<T, V>(
  items: readonly T[],
  externalIdOf: (item: T) => string | null,
  validate: (item: T) => V,
  store: (valid: { index: number; item: T; value: V }[]) => Promise<Map<number, StoreOutcome>>,
): Promise<IngestionPayload> {
  const results: IngestionItemResult[] = new Array(items.length);
  const valid: { index: number; item: T; value: V }[] = [];
  items.forEach((item, index) => {
    try {
      const problem = findUnstorable(item);
      if (problem) throw new ItemRejection(problem.code, problem.message);
      valid.push({ index, item, value: validate(item) });
    } catch (error) {
      if (!(error instanceof ItemRejection)) throw error;
      results[index] = rejected(index, externalIdOf(item), error);
    }
  });
  const outcomes = valid.length > 0 ? await store(valid) : new Map();
  for (const { index, item } of valid) {
    const outcome = outcomes.get(index);
    const externalId = externalIdOf(item);
    if (outcome === undefined) throw new Error(`The store reported nothing for item ${index}`);
    results[index] =
      outcome === 'ACCEPTED' ? accepted(index, externalId) : outcome === 'STALE' ? stale(index, externalId) : rejected(index, externalId, outcome);
  }
  return summarize(results);
}

/** PRODUCT §1: a connection may only write its own data. */
export function requireOwnConnection(caller: { connectionId: string }, connectionId: string): void {
  if (caller.connectionId !== connectionId) {
    throw new ForbiddenError(`This token belongs to connection ${caller.connectionId}; it cannot write data of connection ${connectionId}.`);
  }
}
