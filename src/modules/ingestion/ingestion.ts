// Per-item results of bulk ingestion (PRODUCT §2): each item is ACCEPTED, STALE (its sequence
// number is not newer than the stored one, tombstones included) or REJECTED with a code. Only
// whole-request problems (too many items, a foreign connection) throw.
import { BadUserInputError, ForbiddenError } from '../../shared/errors.ts';

export const MAX_BATCH = 100;
export const MAX_SEQUENCE_NUMBER = Number.MAX_SAFE_INTEGER;

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
 * Runs each item through `validate` (pure, may throw ItemRejection) and hands the valid ones to
 * `store`, which returns ACCEPTED or STALE per item; rejected items never reach the store.
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
