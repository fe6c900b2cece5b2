// A connection deletion survives a crash (issue 5): the operator's `connection delete` is killed
// with SIGKILL in the middle of its batches, and running it again removes every row that is left.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import type { DbHandle } from '../../src/db/handle.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { copyObjects, rowsOf } from '../support/connection-rows.ts';
import { openTestDatabase } from '../support/database.ts';
import { objectInput, TEST_ORIGIN } from '../support/app.ts';

const root = path.resolve(import.meta.dirname, '../..');

/** The same database for this process and the operator's: a data folder, or the PostgreSQL clone. */
async function database() {
  if (process.env.DATABASE_URL) {
    const handle = await openTestDatabase();
    return { env: { DATABASE_URL: handle.url! } as Record<string, string>, open: async () => handle, release: async () => {}, close: () => handle.close() };
  }
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-crash-')), 'data');
  let handle: DbHandle | null = null;
  return {
    env: { DATABASE_URL: '', TEAMGRAPH_DATA_DIR: dataDir },
    open: async () => (handle = await openPglite({ dataDir })),
    // One process holds the data folder at a time.
    release: async () => {
      await handle?.close();
      handle = null;
    },
    close: async () => {
      await handle?.close();
    },
  };
}

/** Runs `connection delete`; `killAfter` decides, line by line of its progress, when to SIGKILL it. */
function deleteConnection(env: Record<string, string>, connectionId: string, killAfter?: (line: string) => boolean) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', 'connection', 'delete', '--connection', connectionId], { cwd: root, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (killAfter && stderr.split('\n').some(killAfter)) child.kill('SIGKILL');
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

it('carries on after the operator’s deletion is killed halfway, leaving no row behind', async () => {
  const db = await database();
  try {
    const handle = await db.open();
    await migrateToLatest(handle.db);
    const app = createApp({ db: handle.db, publicUrl: TEST_ORIGIN });
    const { orgs, sessions } = app.services;
    const { orgId } = await orgs.createOrganization('Crash');
    const { cloudId } = await orgs.createSite(orgId, 'crash');
    const connection = await orgs.createConnection(cloudId, 'jira');
    const token = (await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [])).accessToken;
    const ingested = await app.fetch(
      new Request('http://teamgraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }',
          variables: { i: { connectionId: connection.connectionId, objects: Array.from({ length: 100 }, (_, i) => objectInput(`C-${i}`)) } },
        }),
      }),
    );
    expect((await ingested.json()).data.setObjects.acceptedCount).toBe(100);
    const objectIds = await copyObjects(handle.db, connection.connectionId, 20_000);
    expect(objectIds).toHaveLength(20_000);
    await db.release();

    const killed = await deleteConnection(db.env, connection.connectionId, (line) => /: [1-9]\d*\/20000 objects$/.test(line));
    expect(killed.signal).toBe('SIGKILL');
    const afterCrash = await rowsOf((await db.open()).db, connection.connectionId, objectIds);
    expect(afterCrash.connection).toBe(1);
    expect(afterCrash.graph_object).toBeGreaterThan(0);
    expect(afterCrash.graph_object).toBeLessThan(20_000);
    await db.release();

    const resumed = await deleteConnection(db.env, connection.connectionId);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toEqual({ connectionId: connection.connectionId, deleted: true, deletedObjects: afterCrash.graph_object });
    expect(resumed.stderr).toContain(`${afterCrash.graph_object}/${afterCrash.graph_object} objects, done`);
    const left = await rowsOf((await db.open()).db, connection.connectionId, objectIds);
    expect(Object.entries(left).filter(([, n]) => n > 0)).toEqual([]);
  } finally {
    await db.close();
  }
}, 180_000);
