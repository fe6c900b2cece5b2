// The server as an operator runs it: `npm start` in a process of its own, on the suite's database
// (a PostgreSQL clone when the suite runs on one, else a data folder the server creates).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { DbHandle } from '../../src/db/handle.ts';
import { openPglite } from '../../src/db/pglite.ts';
import { openTestDatabase } from './database.ts';

export const root = path.resolve(import.meta.dirname, '../..');

export interface Started {
  child: ChildProcess;
  origin: string;
  aliceToken: string;
  /** Alice on the admin page's client: admin fields and mutations. */
  aliceAdminToken: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** The server's stderr (its log) so far. */
  log: () => string;
  /** Its stdout up to the demo tokens. */
  banner: string;
}

/** The server's database: a PostgreSQL clone when the suite runs on one, else a data folder the server creates. */
export async function serverDatabase(): Promise<{ env: Record<string, string>; open(): Promise<DbHandle>; close(): Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const handle = await openTestDatabase();
    return { env: { DATABASE_URL: handle.url! }, open: async (): Promise<DbHandle> => handle, close: () => handle.close() };
  }
  const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-server-')), 'data');
  let handle: DbHandle | null = null;
  return { env: { DATABASE_URL: '', TEAMGRAPH_DATA_DIR: dataDir }, open: async () => (handle = await openPglite({ dataDir })), close: async () => void (await handle?.close()) };
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * `npm start` (or another npm script that starts the server, such as `start:built`) with the demo
 * data; resolves once it prints the demo tokens. Killed after each test.
 */
export async function startServer(env: Record<string, string>, script = 'start'): Promise<Started> {
  const child = spawn('npm', ['run', script], { cwd: root, env: { ...process.env, PORT: '0', TEAMGRAPH_DEMO: 'on', ...env } });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let signalled = 0;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - signalled }));
  });
  const originalKill = child.kill.bind(child);
  child.kill = (signal?: NodeJS.Signals | number) => {
    signalled ||= Date.now();
    return originalKill(signal);
  };
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
      if (/Bearer twg_[^"]+"[^\n]*\n[^\n]*Bearer/.test(stdout)) resolve();
    });
    void exited.then(({ code }) => reject(new Error(`the server exited (${code}) before it was ready:\n${stdout}\n${stderr}`)));
  });
  return {
    child,
    origin: /listening on (http:\/\/\S+)/.exec(stdout)![1],
    aliceToken: /Alice \(sees everything[^\n]*Bearer ([^"]+)"/.exec(stdout)![1],
    aliceAdminToken: /Alice on the admin client[^\n]*\n[^\n]*Bearer ([^"]+)"/.exec(stdout)![1],
    exited,
    log: () => stderr,
    banner: stdout,
  };
}

