// Start-up (issue 19, item 7): what stops the server is said in one line with the fix, before
// any work is done; the demo banner says whether data was loaded.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { openPglite } from '../../src/db/pglite.ts';
import { migrateToLatest } from '../../src/db/migrator.ts';
import { root, serverDatabase, startServer } from '../support/server-process.ts';

/** The server process started directly (as a process manager may), to its exit. */
function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env: { ...process.env, TEAMGRAPH_DEMO: 'on', PORT: '0', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const freshDataDir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-start-')), 'data');

// The public port and the metrics port are both bound before any other work.
for (const variable of ['PORT', 'TEAMGRAPH_METRICS_PORT'] as const) {
  it(`says a busy ${variable} in one line before it opens the database`, async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as { port: number }).port;
    try {
      const dataDir = freshDataDir();
      const result = await run({ [variable]: String(port), DATABASE_URL: '', TEAMGRAPH_DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`teamgraph could not start: Port ${port} on 127.0.0.1 is already in use: stop the process listening there, or set ${variable} to a free port.\n`);
      expect(fs.existsSync(dataDir)).toBe(false);
    } finally {
      squatter.close();
    }
  }, 60_000);
}

it('says an unreachable DATABASE_URL in one line, without its password', async () => {
  const result = await run({ DATABASE_URL: 'postgres://someone:hunter2@127.0.0.1:1/teamgraph' });
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(
    'teamgraph could not start: Nothing answers at 127.0.0.1:1 (DATABASE_URL): start PostgreSQL there, fix DATABASE_URL, or unset it to use the embedded database.\n',
  );
}, 60_000);

it.runIf(process.env.DATABASE_URL)('says a database that does not exist on the server in one line with the command that creates it', async () => {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = '/teamgraph_no_such_database';
  const result = await run({ DATABASE_URL: url.toString() });
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^teamgraph could not start: The database "teamgraph_no_such_database" does not exist on [^:]+:\d+: create it \(createdb .*teamgraph_no_such_database\) or fix DATABASE_URL\.\n$/);
}, 60_000);

it('refuses a database a newer version migrated, naming the migration it does not know', async () => {
  const dataDir = freshDataDir();
  const handle = await openPglite({ dataDir });
  await migrateToLatest(handle.db);
  await sql`insert into kysely_migration (name, timestamp) values ('999_from_the_future', now()::text)`.execute(handle.db);
  await handle.close();
  const result = await run({ DATABASE_URL: '', TEAMGRAPH_DATA_DIR: dataDir });
  expect(result.code).toBe(1);
  expect(result.stderr).toBe(
    'teamgraph could not start: The database was migrated by a newer version of teamgraph (it has migration 999_from_the_future, which this version does not know): run that version, or point DATABASE_URL (or TEAMGRAPH_DATA_DIR) at another database.\n',
  );
}, 60_000);

it('says the demo organisation was loaded on the first start and was already there on the next', async () => {
  const database = await serverDatabase();
  try {
    const first = await startServer(database.env);
    expect(first.banner).toContain('Demo organisation loaded.');
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;
    expect(firstExit.code, JSON.stringify(firstExit) + first.log()).toBe(0);
    const second = await startServer(database.env);
    expect(second.banner).toContain('Demo organisation already there; fresh tokens issued.');
    expect(second.aliceToken).not.toBe(first.aliceToken);
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.log()).toBe(0);
  } finally {
    await database.close();
  }
}, 120_000);
