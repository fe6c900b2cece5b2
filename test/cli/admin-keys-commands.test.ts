// twg admin keys through the real binary, as an admin API key (issue 20, item 3): list the
// organisation's keys with their state and revoke one so it stops; keys are made elsewhere.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asOperator } from '../support/app.ts';
import { CliHarness } from '../support/cli-harness.ts';

let h: CliHarness;
beforeAll(async () => {
  h = await CliHarness.start();
});
afterAll(() => h?.close());

it('lists the keys with their state and revokes one so it stops at once', async () => {
  const org = await h.tenant('KeysCli');
  const console = h.machine();
  const admin = (args: string[], key = org.adminApiKey) => console.run(['admin', ...args], { TWG_ADMIN_API_KEY: key });
  // As the admin page's keys screen makes it.
  const { apiKey, secret } = await h.t.app.services.adminKeys.create(asOperator, org.orgId, org.admin.accountId, { name: 'nightly export' });
  const apiKeyId = apiKey.id;
  expect((await admin(['people', 'list', '--json'], secret)).code).toBe(0);

  const listed = await admin(['keys', 'list']);
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stdout).toMatch(/^ID\s+NAME\s+STATE\s+CREATED\s+BY\s+EXPIRES\s+LAST USED$/m);
  expect(listed.stdout).toMatch(new RegExp(`^${apiKeyId}\\s+nightly export\\s+active\\s`, 'm'));
  expect(listed.stdout).not.toContain(secret);

  const revoked = await admin(['keys', 'revoke', '--key', apiKeyId]);
  expect(revoked.code, revoked.stderr).toBe(0);
  expect(revoked.stderr).toContain(`revoked admin API key ${apiKeyId} (nightly export)`);
  expect((await admin(['people', 'list'], secret)).code).not.toBe(0);
  const after = JSON.parse((await admin(['keys', 'list', '--json'])).stdout);
  expect(after.find((k: { id: string }) => k.id === apiKeyId)).toMatchObject({ revokedAt: expect.any(String) });
});

it('refuses a key that is not there, and says where keys are made', async () => {
  const org = await h.tenant('KeysCliRefusals');
  const admin = (args: string[]) => h.machine().run(['admin', ...args], { TWG_ADMIN_API_KEY: org.adminApiKey });
  expect((await admin(['keys', '--help'])).stdout).toContain('admin-key create --account ACC');
  const missing = await admin(['keys', 'revoke', '--key', 'aak_nope']);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toMatch(/not found/i);
});
