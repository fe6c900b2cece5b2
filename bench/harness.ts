// What the benchmarks share: a fresh migrated database on either back end, a timing loop with
// percentiles, progress on stderr and the report on stdout, and the revision measured.
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import type { DbHandle } from '../src/db/handle.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { migrateToLatest } from '../src/db/migrator.ts';
import { percentile } from './dataset.ts';

export type Backend = 'pglite' | 'postgres';

/** The public origin of the benchmarks' apps; the requests they send name it too. */
export const BENCH_ORIGIN = 'http://teamgraph.test';

export interface DatabaseOptions {
  backend: Backend;
  /** A PostgreSQL server URL; each run creates its own database there and drops it after. */
  server: string;
}

export const progress = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const out = (line = '') => process.stdout.write(`${line}\n`);
export const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);

/**
 * A fresh, migrated database on the chosen back end, closed (and for PostgreSQL dropped) after.
 * `use` also gets the PostgreSQL database's URL (undefined for PGlite), for a server process.
 */
export async function withDatabase<T>(options: DatabaseOptions, use: (handle: DbHandle, url?: string) => Promise<T>, keep = false): Promise<T> {
  if (options.backend === 'pglite') {
    const handle = await openPglite();
    try {
      await migrateToLatest(handle.db);
      return await use(handle);
    } finally {
      await handle.close();
    }
  }
  const name = `teamgraph_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: options.server });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const url = new URL(options.server);
    url.pathname = `/${name}`;
    const handle = openPostgres(url.toString());
    try {
      await migrateToLatest(handle.db);
      return await use(handle, url.toString());
    } finally {
      await handle.close();
    }
  } finally {
    if (keep) progress(`kept database ${name}`);
    else await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

export interface Timing {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** `before` runs ahead of each request, outside the timed part. */
export async function measure(runs: number, warmup: number, once: () => Promise<void>, before?: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    const t0 = performance.now();
    await once();
    samples.push(performance.now() - t0);
  }
  return timingOf(samples);
}

/**
 * Several cases measured in turn, one request of each per round, so that garbage collection and
 * drift over the run fall on every case alike; a comparison of their p99s is then fair.
 */
export async function measureInterleaved(runs: number, warmup: number, cases: (() => Promise<void>)[]): Promise<Timing[]> {
  for (let i = 0; i < warmup; i++) for (const once of cases) await once();
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [index, once] of cases.entries()) {
      const t0 = performance.now();
      await once();
      samples[index].push(performance.now() - t0);
    }
  }
  return samples.map(timingOf);
}

export function timingOf(samples: number[]): Timing {
  const sorted = samples.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
}

/** The commit measured, and whether the code under test differs from it. */
export function codeRevision(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} with uncommitted changes in src/ or migrations/` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}
