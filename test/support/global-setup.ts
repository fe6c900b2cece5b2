// Migrates a template database once per run: a PGlite dump on the embedded back end, or a
// template database on the PostgreSQL server named by DATABASE_URL. Each test file clones it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDump: string;
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
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
  return () => fs.rmSync(dumpFile, { force: true });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
