// A long, valid audit chain written in bulk (the audit verification benchmark and the operator
// command line's test): events shaped like a CLI command's, hashed in order as the append
// statement would (sha256(previous hash || canonical JSON)), inserted a batch per transaction
// together with the chain head, so the head never runs ahead of the events it names.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { type AuditEvent, canonicalJson, chainHash } from '../src/modules/audit/audit-event.ts';
import { newId } from '../src/shared/ids.ts';

const COMMANDS = ['jira workitem get', 'jira workitem list', 'confluence page get', 'graph relationships', 'jira workitem create'];
const OUTCOMES = ['SUCCESS', 'SUCCESS', 'SUCCESS', 'RESTRICTED', 'ERROR'] as const;

function eventAt(orgId: string, index: number, time: Date): AuditEvent {
  const command = COMMANDS[index % COMMANDS.length];
  const write = command.endsWith('create');
  return {
    id: newId('auditEvent'),
    orgId,
    time: time.toISOString(),
    action: 'cli.command.invoked',
    actor: { accountId: `acc_bench${index % 97}`, email: `person${index % 97}@bench.test` },
    sessionId: `ses_bench${index % 211}`,
    clientId: 'twg-cli',
    adminApiKeyId: null,
    bitbucketTokenId: null,
    command,
    family: command.split(' ').slice(0, 2).join('.'),
    commandType: write ? 'write' : 'read',
    operationName: null,
    operationType: write ? 'mutation' : 'query',
    objectTypes: command.startsWith('confluence') ? ['confluence:page'] : ['jira:work-item'],
    objectIds: write ? [`obj_bench${index}`] : [],
    outcome: OUTCOMES[index % OUTCOMES.length],
    statusCode: 200,
    permissions: [write ? 'write:work-item:jira' : 'read:work-item:jira'],
    restrictedFields: [],
    invocationSource: index % 3 === 0 ? 'agent' : 'user',
    agentRuntime: index % 3 === 0 ? 'claude-code/2.1' : null,
    cliVersion: '1.4.2',
    ip: `203.0.113.${index % 250}`,
    userAgent: 'twg/1.4.2 (linux; x64)',
    durationMs: 5 + (index % 40),
    interrupted: false,
    traceId: index.toString(16).padStart(32, '0'),
    details: null,
  };
}

/**
 * Appends `count` events to the organisation's chain, `batch` per statement; the events are one
 * second apart, the last one `end` (default now). Returns the chain's last seq.
 */
export async function loadAuditChain(
  db: Kysely<Database>,
  orgId: string,
  count: number,
  options: { batch?: number; end?: Date; onProgress?: (loaded: number) => void } = {},
): Promise<number> {
  const batch = options.batch ?? 2000;
  const end = (options.end ?? new Date()).getTime();
  const head = await db.selectFrom('audit_chain').select(['last_seq', 'last_hash']).where('org_id', '=', orgId).executeTakeFirst();
  let seq = Number(head?.last_seq ?? 0);
  let hash = head?.last_hash ?? '';
  for (let loaded = 0; loaded < count; ) {
    const size = Math.min(batch, count - loaded);
    const columns = { seq: [] as number[], id: [] as string[], time: [] as string[], actor: [] as string[], command: [] as string[], objectType: [] as string[], outcome: [] as string[], ip: [] as string[], json: [] as string[], prev: [] as string[], hash: [] as string[] };
    for (let i = 0; i < size; i++) {
      const index = loaded + i;
      const event = eventAt(orgId, index, new Date(end - (count - 1 - index) * 1000));
      const json = canonicalJson(event);
      const next = chainHash(hash, json);
      seq++;
      columns.seq.push(seq);
      columns.id.push(event.id);
      columns.time.push(event.time);
      columns.actor.push(event.actor.accountId!);
      columns.command.push(event.command!);
      columns.objectType.push(event.objectTypes[0]);
      columns.outcome.push(event.outcome);
      columns.ip.push(event.ip!);
      columns.json.push(json);
      columns.prev.push(hash);
      columns.hash.push(next);
      hash = next;
    }
    await db.transaction().execute(async (trx) => {
      await sql`
        insert into audit_event (org_id, seq, id, time, action, actor_account_id, command, object_types, outcome, ip, event_json, prev_hash, hash)
        select ${orgId}, e.seq, e.id, e.time, 'cli.command.invoked', e.actor, e.command, array[e.object_type], e.outcome, e.ip, e.json, e.prev, e.hash
        from unnest(${columns.seq}::bigint[], ${columns.id}::text[], ${columns.time}::timestamptz[], ${columns.actor}::text[], ${columns.command}::text[],
                    ${columns.objectType}::text[], ${columns.outcome}::text[], ${columns.ip}::text[], ${columns.json}::text[], ${columns.prev}::text[], ${columns.hash}::text[])
          as e(seq, id, time, actor, command, object_type, outcome, ip, json, prev, hash)
      `.execute(trx);
      await sql`
        insert into audit_chain (org_id, last_seq, prev_hash, last_hash) values (${orgId}, ${seq}, ${columns.prev[size - 1]}, ${hash})
        on conflict (org_id) do update set last_seq = excluded.last_seq, prev_hash = excluded.prev_hash, last_hash = excluded.last_hash
      `.execute(trx);
    });
    loaded += size;
    options.onProgress?.(loaded);
  }
  return seq;
}
