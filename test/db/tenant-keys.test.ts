// Issue 18, item 1: what Citus requires of a table it shards by organisation holds of every tenant
// table on every back end (migrations/distribution.ts says which tables those are), so the rule
// is kept before anyone runs Citus.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_TABLES, tenantTables } from '../../migrations/distribution.ts';
import { openTestDatabase, type TestDbHandle } from '../support/database.ts';

let handle: TestDbHandle;
beforeAll(async () => {
  handle = await openTestDatabase();
});
afterAll(() => handle.close());

interface Key {
  table: string;
  name: string;
  kind: 'primary key' | 'unique' | 'foreign key';
  columns: string[];
  referenced: string | null;
  referencedColumns: string[];
}

/** Primary keys, unique constraints and unique indexes (as keys of their columns; an expression counts as none), foreign keys. */
async function keysOf(): Promise<Key[]> {
  const { rows } = await sql<{ table: string; name: string; kind: string; columns: string[]; referenced: string | null; referenced_columns: string[] | null }>`
    select c.conrelid::regclass::text as table, c.conname as name, c.contype::text as kind,
      array(select a.attname::text from unnest(c.conkey) with ordinality k(n, at) join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.at) as columns,
      case when c.contype = 'f' then c.confrelid::regclass::text end as referenced,
      array(select a.attname::text from unnest(c.confkey) with ordinality k(n, at) join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.at) as referenced_columns
    from pg_constraint c where c.connamespace = 'public'::regnamespace and c.contype in ('p', 'u', 'f')
    union all
    select i.indrelid::regclass::text, i.indexrelid::regclass::text, 'i',
      array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(n, at) join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n where k.n > 0 order by k.at), null, null
    from pg_index i join pg_class t on t.oid = i.indrelid
    where t.relnamespace = 'public'::regnamespace and i.indisunique and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
  `.execute(handle.db);
  const kinds = { p: 'primary key', u: 'unique', i: 'unique', f: 'foreign key' } as const;
  return rows.map((r) => ({ table: r.table, name: r.name, kind: kinds[r.kind as keyof typeof kinds], columns: r.columns, referenced: r.referenced, referencedColumns: r.referenced_columns ?? [] }));
}

/** Every way a tenant table breaks what sharding by org_id needs; `alsoShared` names scratch tables to treat as shared. */
async function tenantKeyProblems(alsoShared: string[] = []): Promise<string[]> {
  const tenants = new Set((await tenantTables(handle.db)).filter((t) => !alsoShared.includes(t)));
  const { rows: nullable } = await sql<{ table: string }>`
    select attrelid::regclass::text as table from pg_attribute
    where attname = 'org_id' and not attnotnull and attrelid::regclass::text = any(${[...tenants]}::text[])`.execute(handle.db);
  const keys = await keysOf();
  const broken: string[] = nullable.map((r) => `${r.table}.org_id may be null`);
  for (const table of tenants) {
    if (!keys.some((k) => k.table === table && k.kind === 'primary key')) broken.push(`${table} has no primary key`);
  }
  for (const key of keys) {
    if (key.kind === 'foreign key') {
      const fromTenant = tenants.has(key.table);
      const toTenant = tenants.has(key.referenced!);
      if (!fromTenant && toTenant) broken.push(`shared table ${key.table} references tenant table ${key.referenced} (${key.name})`);
      const orgAt = key.columns.indexOf('org_id');
      if (fromTenant && toTenant && (orgAt < 0 || key.referencedColumns[orgAt] !== 'org_id')) {
        broken.push(`${key.name}: ${key.table} (${key.columns}) references ${key.referenced} (${key.referencedColumns}) without matching org_id`);
      }
    } else if (tenants.has(key.table) && !key.columns.includes('org_id')) {
      broken.push(`${key.kind} ${key.name} of ${key.table} (${key.columns.join(', ') || 'an expression'}) leaves out org_id`);
    }
  }
  return broken;
}

describe('tenant tables, as Citus shards them by org_id', () => {
  it('has the tables it expects on both sides', async () => {
    const tenants = await tenantTables(handle.db);
    expect(tenants).toEqual(expect.arrayContaining(['graph_object', 'acl_entry', 'session', 'access_token', 'audit_event', 'principal_version']));
    for (const shared of SHARED_TABLES) expect(tenants).not.toContain(shared);
  });

  it('keeps org_id in every primary key, unique key and foreign key between tenant tables, and no shared table points at a tenant table', async () => {
    expect(await tenantKeyProblems()).toEqual([]);
  });

  it('names a table that breaks the rule', async () => {
    await sql`
      create table scratch_note (org_id text, id text primary key, email text unique, object_id text);
      alter table scratch_note add foreign key (org_id, object_id) references graph_object (id, org_id);
      create table scratch_shared (id text primary key, org_id text, session_id text);
      alter table scratch_shared add foreign key (org_id, session_id) references session (org_id, id);
    `.execute(handle.db);
    try {
      const problems = await tenantKeyProblems(['scratch_shared']);
      expect(problems).toEqual(
        expect.arrayContaining([
          'scratch_note.org_id may be null',
          'primary key scratch_note_pkey of scratch_note (id) leaves out org_id',
          'unique scratch_note_email_key of scratch_note (email) leaves out org_id',
          expect.stringMatching(/^scratch_note_org_id_object_id_fkey: scratch_note \(org_id,object_id\) references graph_object \(id,org_id\)/),
          expect.stringMatching(/^shared table scratch_shared references tenant table session/),
        ]),
      );
      expect(problems.filter((p) => !p.includes('scratch_'))).toEqual([]);
    } finally {
      await sql`drop table scratch_note; drop table scratch_shared`.execute(handle.db);
    }
  });
});
