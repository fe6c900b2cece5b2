// --limit and --all over GraphQL cursor connections (page size at most 100, PRODUCT §10).
import type { Command } from 'commander';
import { CliError, EXIT } from './exit-codes.ts';

export const PAGE_MAX = 100;
export const DEFAULT_LIMIT = 25;

/** Adds --limit and --all to a listing command. */
export const pagingOptions = (command: Command) => command.option('--limit <n>', `show at most n (default ${DEFAULT_LIMIT})`).option('--all', 'show every one, page after page');

export interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface PageOptions {
  limit?: string;
  all?: boolean;
}

export function parseLimit(options: PageOptions): number {
  if (options.all) return Number.POSITIVE_INFINITY;
  if (options.limit === undefined) return DEFAULT_LIMIT;
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(EXIT.usage, `--limit must be a positive whole number, got "${options.limit}"`);
  return limit;
}

/** Fetches pages until `limit` items are in hand or the connection ends. */
export async function collect<T>(options: PageOptions, fetchPage: (first: number, after: string | null) => Promise<Connection<T>>): Promise<{ items: T[]; hasMore: boolean }> {
  const limit = parseLimit(options);
  const items: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page = await fetchPage(Math.min(PAGE_MAX, limit - items.length), after);
    items.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return { items, hasMore: false };
    if (items.length >= limit) return { items, hasMore: true };
    after = page.pageInfo.endCursor;
  }
}
