// Migrates a template database once per run: a PGlite dump on the embedded back end, or a
// template database on the PostgreSQL server named by DATABASE_URL. Each test file clones it.
// On Citus, DATABASE_URL names a database that `../shared/tools/citus/cluster.sh createdb` made
// (the extension in it on every node, the workers added): it is migrated and becomes the template,
// which a test file clones on every node of the cluster (test/support/database.ts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { CITUS_PRESENT_SQL } from '../../migrations/distribution.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDump: string;
    templateDatabase: string;
    /** Citus only: host:port of every node (coordinator first), where each test file clones the template. */
    citusNodes: string[];
  }
}

export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (url && (await isCitusDatabase(url))) return citusSetup(project, url);
  if (url) {
    const name = `teamgraph_tpl_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const handle = openPostgres(withDatabase(url, name), 2);
    await migrateToLatest(handle.db);
    await handle.close();
    project.provide('templateDatabase', name);
    project.provide('templateDump', '');
    project.provide('citusNodes', []);
    return async () => {
      const { rows } = await admin.query(`select datname from pg_database where datname like $1`, [`${name.replace('tpl', 't')}%`]);
      for (const row of rows) await admin.query(`drop database if exists ${row.datname} with (force)`);
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const handle = await openPglite();
  await migrateToLatest(handle.db);
  const dumpFile = path.join(os.tmpdir(), `teamgraph-template-${process.pid}.tar`);
  const dump = await handle.dump!();
  fs.writeFileSync(dumpFile, Buffer.from(await dump.arrayBuffer()));
  await handle.close();
  project.provide('templateDump', dumpFile);
  project.provide('templateDatabase', '');
  project.provide('citusNodes', []);
  return () => fs.rmSync(dumpFile, { force: true });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function isCitusDatabase(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ found: boolean }>(CITUS_PRESENT_SQL);
    return rows[0].found;
  } finally {
    await client.end();
  }
}

async function citusSetup(project: TestProject, url: string) {
  const handle = openPostgres(url, 2);
  await migrateToLatest(handle.db);
  await handle.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ node: string }>(`select nodename || ':' || nodeport as node from pg_dist_node where noderole = 'primary' order by groupid`);
  await client.end();
  const template = new URL(url).pathname.slice(1);
  project.provide('templateDatabase', template);
  project.provide('templateDump', '');
  project.provide('citusNodes', rows.map((r) => r.node));
  return async () => {
    for (const node of rows.map((r) => r.node)) {
      const admin = new pg.Client({ connectionString: nodeUrl(url, node, 'postgres') });
      await admin.connect();
      const clones = await admin.query(`select datname from pg_database where datname like $1`, [`${template}\\_t\\_%`]);
      for (const row of clones.rows) await admin.query(`drop database if exists ${row.datname} with (force)`);
      await admin.end();
    }
  };
}

/** `url` with another host:port and database: the same cluster's node. */
export function nodeUrl(url: string, node: string, database: string): string {
  const parsed = new URL(withDatabase(url, database));
  parsed.host = node;
  return parsed.toString();
}
