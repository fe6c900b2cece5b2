// twg admin audit stream through the real binary, as an admin API key (issue 21): list, create with
// the secret from a file or standard input (never from the command line), update, pause, resume
// and delete; a receiver on loopback shows the secret read is the one the stream signs with.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorAuthor } from '../../src/modules/audit/audit-event.ts';
import { type AuditReceiver, eventsOf, startAuditReceiver, verifySignature } from '../support/audit-receiver.ts';
import { CliHarness, type CliTenant } from '../support/cli-harness.ts';

const SECRET = 'file-secret-0123456789abcdef0123';
const NEW_SECRET = 'stdin-secret-fedcba9876543210fedc';

let h: CliHarness;
let dir: string;
let receiver: AuditReceiver;
beforeAll(async () => {
  // Plain http to the loopback receiver; every owed event is due at once, so one tick delivers.
  h = await CliHarness.start({ auditStreamAllowHttp: true, auditStreamSender: { flushSeconds: 0, timeoutMs: 2000, random: () => 0.5 } });
  dir = mkdtempSync(join(tmpdir(), 'twg-stream-secret-'));
  receiver = await startAuditReceiver(SECRET);
});
afterAll(async () => {
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
  await h?.close();
});

function cli(org: CliTenant) {
  const machine = h.machine();
  return {
    run: (args: string[]) => machine.run(['admin', 'audit', 'stream', ...args], { TWG_ADMIN_API_KEY: org.adminApiKey }),
    /** With `input` written to its standard input, then closed. */
    async piped(args: string[], input: string) {
      const twg = machine.start(['admin', 'audit', 'stream', ...args], { TWG_ADMIN_API_KEY: org.adminApiKey });
      twg.child.stdin.end(input);
      return twg.done;
    },
  };
}

function secretFile(name: string, content: string): string {
  const file = join(dir, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

const streamsOf = (orgId: string) => h.t.app.services.auditStreams.list(orgId);

describe('twg admin audit stream', () => {
  it('creates a stream with the secret from a file, lists it, pauses, resumes, updates it from standard input and deletes it', async () => {
    const org = await h.tenant('StreamsCli');
    const twg = cli(org);
    expect((await twg.run(['list'])).stdout).toBe('no audit streams\n');

    // As `openssl rand -hex 32 > FILE` writes it: the line break is not part of the secret.
    const created = await twg.run(['create', '--url', receiver.url, '--format', 'json-lines', '--secret-file', secretFile('siem.secret', `${SECRET}\n`)]);
    expect(created.code, created.stderr).toBe(0);
    const id = /created audit stream (ast_\S+) \(http:\/\/127\.0\.0\.1:\d+\/collect, json-lines\)/.exec(created.stderr)?.[1];
    expect(id, created.stderr).toBeDefined();
    expect(created.stderr).toContain('see its delivery with: twg admin audit stream list');

    await h.t.app.services.auditStreamSender.tick();
    expect(receiver.posts).toHaveLength(1);
    expect(receiver.posts[0].signatureValid).toBe(true);
    expect(receiver.posts[0].headers['x-teamgraph-stream-id']).toBe(id);
    expect(eventsOf(receiver.posts[0])[0].event).toMatchObject({ action: 'audit-stream.created', details: { streamId: id } });

    const listed = await twg.run(['list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+URL\s+FORMAT\s+STATE\s+LAST DELIVERED\s+LAG\s+NEXT ATTEMPT\s+LAST ERROR$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+${receiver.url}\\s+json-lines\\s+active\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+\\d+\\s+-\\s+-$`, 'm'));
    const asJson = await twg.run(['list', '--json']);
    expect(JSON.parse(asJson.stdout)).toEqual([expect.objectContaining({ id, url: receiver.url, format: 'JSON_LINES', paused: false })]);
    expect(listed.stdout + asJson.stdout).not.toContain(SECRET);

    const paused = await twg.run(['pause', '--stream', id!]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stderr).toMatch(new RegExp(`^paused audit stream ${id} .*: \\d+ events? waiting; resume sends them in order$`, 'm'));
    expect((await twg.run(['list'])).stdout).toMatch(new RegExp(`^${id}\\s.*\\spaused \\(paused by an admin\\)\\s`, 'm'));
    expect((await streamsOf(org.orgId))[0]).toMatchObject({ paused: true });
    const resumed = await twg.run(['resume', '--stream', id!]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resumed audit stream ${id}`);
    expect((await streamsOf(org.orgId))[0]).toMatchObject({ paused: false });

    // A rotation from standard input: the next batch is signed with the new secret.
    const rotated = await twg.piped(['update', '--stream', id!, '--secret-stdin'], `${NEW_SECRET}\n`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toContain(`updated audit stream ${id} (${receiver.url}, json-lines): secret changed`);
    await h.t.app.services.auditStreamSender.tick();
    const signedAnew = receiver.posts.at(-1)!;
    expect(verifySignature(NEW_SECRET, String(signedAnew.headers['x-teamgraph-signature']), signedAnew.body)).toBe(true);
    expect(signedAnew.signatureValid).toBe(false);

    const splunk = await twg.run(['update', '--stream', id!, '--format', 'splunk-hec', '--json']);
    expect(splunk.code, splunk.stderr).toBe(0);
    expect(JSON.parse(splunk.stdout)).toMatchObject({ id, format: 'SPLUNK_HEC' });
    await h.t.app.services.auditStreamSender.tick();
    expect(receiver.posts.at(-1)!.headers.authorization).toBe(`Splunk ${NEW_SECRET}`);

    const deleted = await twg.run(['delete', '--stream', id!]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stderr).toContain(`deleted audit stream ${id}`);
    expect((await twg.run(['list'])).stdout).toBe('no audit streams\n');

    // Each change is the admin's, through the key, in the audit log.
    const events = await h.t.db.selectFrom('audit_event').select(['action', 'event_json']).where('org_id', '=', org.orgId).where('action', 'like', 'audit-stream.%').orderBy('seq').execute();
    expect(events.map((e) => [e.action, JSON.parse(e.event_json).actor.accountId])).toEqual(
      ['created', 'paused', 'resumed', 'updated', 'updated', 'deleted'].map((action) => [`audit-stream.${action}`, org.admin.accountId]),
    );
    expect(events.map((e) => e.event_json).join('\n')).not.toMatch(new RegExp(`${SECRET}|${NEW_SECRET}`));
  });

  it('never takes the secret from the command line, and says what to give instead', async () => {
    const org = await h.tenant('StreamsCliSecrets');
    const twg = cli(org);
    const url = 'https://siem.example.com/teamgraph';

    const inline = await twg.run(['create', '--url', url, '--secret', SECRET]);
    expect(inline.code).toBe(1);
    expect(inline.stderr).toContain('--secret is not taken on the command line, where shell history and ps keep it: use --secret-file FILE or --secret-stdin');
    const none = await twg.run(['create', '--url', url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('create needs the secret: --secret-file FILE or --secret-stdin');
    const both = await twg.piped(['create', '--url', url, '--secret-stdin', '--secret-file', secretFile('both.secret', SECRET)], SECRET);
    expect(both.stderr).toContain('give the secret once');
    const empty = await twg.piped(['create', '--url', url, '--secret-stdin'], '\n');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('the secret from standard input is empty');
    const missing = await twg.run(['create', '--url', url, '--secret-file', join(dir, 'no-such-file')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read --secret-file');
    expect(missing.stderr).toContain('ENOENT');
    const format = await twg.run(['create', '--url', url, '--format', 'xml', '--secret-file', secretFile('format.secret', SECRET)]);
    expect(format.stderr).toContain('--format must be json-lines or splunk-hec, got "xml"');
    expect(await streamsOf(org.orgId)).toEqual([]);

    // The API's refusals, with its words.
    const short = await twg.piped(['create', '--url', url, '--secret-stdin'], 'too short');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('refused: secret must be 16 to 1024 characters');
    const credentialInUrl = await twg.piped(['create', '--url', 'https://collector:hunter2@siem.example.com/in', '--secret-stdin'], SECRET);
    expect(credentialInUrl.code).toBe(1);
    expect(credentialInUrl.stderr).toContain('refused: url must not carry a user name or password');
    expect(await streamsOf(org.orgId)).toEqual([]);
  });

  it('refuses a stream that is not there, naming the list command, and a fourth stream', async () => {
    const org = await h.tenant('StreamsCliRefusals');
    const twg = cli(org);
    for (const args of [['pause'], ['resume'], ['delete'], ['update', '--url', 'https://siem.example.com/in']]) {
      const result = await twg.run([...args, '--stream', 'ast_nope']);
      expect(result.code, args[0]).toBe(1);
      expect(result.stderr, args[0]).toContain('not found: No audit stream ast_nope in your organisation; list them with twg admin audit stream list.');
    }
    const nothing = await twg.run(['update', '--stream', 'ast_nope']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to change: give --url, --format, or a new secret with --secret-file FILE or --secret-stdin');

    // Another organisation's stream is not there either.
    const other = await h.tenant('StreamsCliOther');
    const theirs = await h.t.app.services.auditStreams.create(operatorAuthor(() => h.clock.now()), other.orgId, other.admin.accountId, { url: 'https://theirs.example.com/in', format: 'JSON_LINES', secret: SECRET });
    expect((await twg.run(['delete', '--stream', theirs.id])).stderr).toContain('not found');
    expect(await streamsOf(other.orgId)).toHaveLength(1);

    for (const n of [1, 2, 3]) {
      const made = await twg.piped(['create', '--url', `https://siem${n}.example.com/in`, '--secret-stdin'], SECRET);
      expect(made.code, made.stderr).toBe(0);
    }
    const fourth = await twg.piped(['create', '--url', 'https://siem4.example.com/in', '--secret-stdin'], SECRET);
    expect(fourth.code).toBe(1);
    expect(fourth.stderr).toContain('refused: An organisation has at most 3 audit streams; delete one first.');
    expect(await streamsOf(org.orgId)).toHaveLength(3);
  });
});
