// The receiver snippet of README.md (Audit streams), run as written against a batch the sender
// really posted: it accepts the batch and every event's hash, and refuses another secret, a
// changed body and an old signature. The README's example cannot drift from the wire format.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import { createTenant, startTestApp, type TestApp } from '../support/app.ts';
import { type AuditReceiver, startAuditReceiver } from '../support/audit-receiver.ts';

const SECRET = 'a-receiver-secret-of-enough-length';
type VerifyBatch = (body: string, header: string, secret: string, maxAgeSeconds?: number) => { id: string; seq: number }[];

let t: TestApp;
let receiver: AuditReceiver;
let dir: string;
let verifyBatch: VerifyBatch;
beforeAll(async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const snippet = /^### Audit streams$[\s\S]*?^```js\n([\s\S]*?)^```$/m.exec(readme)?.[1];
  if (!snippet) throw new Error('README.md has no js snippet under "### Audit streams"');
  // Imported from a temporary folder, with its one package import pointed at ours.
  const canonicalize = pathToFileURL(createRequire(import.meta.url).resolve('canonicalize')).href;
  dir = mkdtempSync(join(tmpdir(), 'readme-receiver-'));
  writeFileSync(join(dir, 'receiver.mjs'), snippet.replace("from 'canonicalize'", `from '${canonicalize}'`));
  ({ verifyBatch } = await import(pathToFileURL(join(dir, 'receiver.mjs')).href));
  t = await startTestApp({ auditStreamAllowHttp: true, auditStreamSender: { flushSeconds: 0 } });
  receiver = await startAuditReceiver(SECRET);
});
afterAll(async () => {
  await receiver?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('accepts a batch the sender posted and refuses it under another secret, changed, too old, or with an event that does not match its hash', async () => {
  const tenant = await createTenant(t);
  const by = operatorAuthor(() => t.clock.now());
  const { accountId } = await tenant.account({ admin: true });
  await t.app.services.auditStreams.create(by, tenant.orgId, accountId, { url: receiver.url, format: 'JSON_LINES', secret: SECRET });
  // Keys JavaScript would order differently from RFC 8785, and text that JSON escapes.
  for (let i = 0; i < 3; i++) await t.app.services.audit.recordAction(by, tenant.orgId, 'test.stream.event', { i, keys: { '10': 1, '9': 2, b: 'é "\u2028' }, small: 1.5e-7 });
  await t.app.services.auditStreamSender.tick();
  expect(receiver.posts).toHaveLength(1);
  const { body, headers } = receiver.posts[0];
  const header = String(headers['x-teamgraph-signature']);
  // The sender signs at the test clock's time: the allowed age is measured from it.
  const age = Date.now() / 1000 - Number(/^t=(\d+),/.exec(header)![1]);

  const events = verifyBatch(body, header, SECRET, age + 60);
  expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4].map((n) => events[0].seq + n - 1));
  expect(() => verifyBatch(body, header, 'another-secret-of-enough-length', age + 60)).toThrow('bad signature');
  expect(() => verifyBatch(body.replace('"i":1', '"i":7'), header, SECRET, age + 60)).toThrow('bad signature');
  expect(() => verifyBatch(body, header, SECRET, age - 60)).toThrow('signature too old');
  // Signed with the secret but changed after hashing: the event's hash gives it away.
  const forged = body.replace('"i":1', '"i":7');
  const t0 = Math.floor(Date.now() / 1000);
  const forgedHeader = `t=${t0},v1=${createHmac('sha256', SECRET).update(`${t0}.${forged}`).digest('hex')}`;
  expect(() => verifyBatch(forged, forgedHeader, SECRET)).toThrow(/^event audit_\S+ does not match its hash$/);
});
