// A fresh database per test file, cloned from the migrated template of global-setup.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { DbHandle, QueryListener } from '../../src/db/handle.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { withDatabase } from './global-setup.ts';

export interface TestDbHandle extends DbHandle {
  /** PostgreSQL only: the clone's connection URL (for server processes, pg_dump); undefined on the embedded database. */
  url?: string;
}

export async function openTestDatabase(onQuery?: QueryListener): Promise<TestDbHandle> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const template = inject('templateDatabase');
    const name = `${template.replace('tpl', 't')}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`create database ${name} template ${template}`);
    const handle = openPostgres(withDatabase(url, name), 4, onQuery);
    return {
      ...handle,
      url: withDatabase(url, name),
      close: async () => {
        await handle.close();
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    };
  }
  const dump = fs.readFileSync(inject('templateDump'));
  return openPglite({ template: new Blob([dump]), onQuery });
}
