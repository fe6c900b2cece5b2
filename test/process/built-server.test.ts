// The production build (README "Operating it"; issue 16, item 7): `npm run build` then
// `npm run start:built` serves the same service from dist/ as `npm start` does from the sources,
// including the files it reads from beside its modules, and stops cleanly on SIGTERM.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { root, serverDatabase, startServer } from '../support/server-process.ts';

it('builds dist/ and serves GraphQL, the admin page and GraphiQL from it', async () => {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  expect(build.status, build.stderr + build.stdout).toBe(0);
  expect(fs.existsSync(path.join(root, 'dist/src/main.js'))).toBe(true);
  expect(fs.existsSync(path.join(root, 'dist/src/main.ts'))).toBe(false);

  const database = await serverDatabase();
  try {
    const server = await startServer(database.env, 'start:built');
    expect(server.banner).toContain('node dist/src/main.js');

    const answer = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.aliceToken}` },
      body: JSON.stringify({ query: '{ objects(first: 2) { edges { node { displayName } } } }' }),
    });
    const body = (await answer.json()) as { data: { objects: { edges: unknown[] } } };
    expect(body.data.objects.edges).toHaveLength(2);

    const adminPage = await fetch(`${server.origin}/admin`);
    expect(adminPage.status).toBe(200);
    const script = /<script[^>]+src="([^"]+)"/.exec(await adminPage.text())![1];
    expect((await fetch(new URL(script, server.origin))).status).toBe(200);
    expect((await fetch(`${server.origin}/graphiql/start.js`)).status).toBe(200);

    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  } finally {
    await database.close();
  }
}, 120_000);
