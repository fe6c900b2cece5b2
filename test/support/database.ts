// A fresh database per test file, cloned from the migrated template of global-setup.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { inject } from 'vitest';
import type { DbHandle, QueryListener } from '../../src/db/handle.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openPostgres } from '../../src/db/postgres.ts';
import { nodeUrl, withDatabase } from './global-setup.ts';

export interface TestDbHandle extends DbHandle {
  /** PostgreSQL only: the clone's connection URL (for server processes, pg_dump); undefined on the embedded database. */
  url?: string;
}

/** Whether the suite runs on a Citus cluster (DATABASE_URL names a Citus database; see global-setup.ts). */
export const onCitus = (): boolean => !!process.env.DATABASE_URL && inject('citusNodes').length > 0;

export async function openTestDatabase(onQuery?: QueryListener): Promise<TestDbHandle> {
  const url = process.env.DATABASE_URL;
  if (url && inject('citusNodes').length > 0) return openCitusClone(url, onQuery);
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

/**
 * Citus: the template cloned on every node under one name, which makes a cluster database of its
 * own (the metadata names the nodes by address, and a node's shards are its database's tables).
 * A clone needs the template without connections; Citus's maintenance daemon may reconnect to it
 * between the two steps, so a refused clone is tried again.
 */
async function openCitusClone(url: string, onQuery?: QueryListener): Promise<TestDbHandle> {
  const template = inject('templateDatabase');
  const name = `${template}_t_${randomBytes(4).toString('hex')}`;
  const admins = await Promise.all(
    inject('citusNodes').map(async (node) => {
      const admin = new pg.Client({ connectionString: nodeUrl(url, node, 'postgres') });
      await admin.connect();
      return admin;
    }),
  );
  for (const admin of admins) {
    for (let attempt = 1; ; attempt++) {
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`, [template]);
      try {
        await admin.query(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
      }
    }
  }
  // Citus records its database among the cluster's objects by oid, the template's in a clone: it
  // must name the clone, or a node added later is sent the template's name.
  for (const node of inject('citusNodes')) {
    const clone = new pg.Client({ connectionString: nodeUrl(url, node, name) });
    await clone.connect();
    await clone.query(
      `update pg_catalog.pg_dist_object set objid = (select oid from pg_database where datname = current_database())
       where classid = 'pg_database'::regclass and objid = (select oid from pg_database where datname = $1)`,
      [template],
    );
    await clone.end();
  }
  const cloneUrl = withDatabase(url, name);
  const handle = openPostgres(cloneUrl, 4, onQuery);
  return {
    ...handle,
    url: cloneUrl,
    close: async () => {
      await handle.close();
      for (const admin of admins) {
        await dropDatabase(admin, name);
        await admin.end();
      }
    },
  };
}

/**
 * Drops a test database. On a Citus node a connection may arrive between FORCE's termination of
 * the others and the drop itself (the node's maintenance daemon, the coordinator's cached
 * connection): the drop is refused as in use (55006), and tried again at once.
 */
async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`drop database if exists ${name} with (force)`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt === 5) throw error;
    }
  }
}
