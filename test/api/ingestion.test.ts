import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INPUT_DEPTH } from '../../src/modules/ingestion/ingestion.ts';
import { createTenant, objectInput, startTestApp, type Tenant, type TestApp, userPrincipal, viewAcl } from '../support/app.ts';

let t: TestApp;
let tenant: Tenant;
let reader: { accountId: string; token: string };

beforeAll(async () => {
  t = await startTestApp();
  tenant = await createTenant(t);
  reader = await tenant.account();
});
afterAll(() => t.close());

const OBJECT_FIELDS = 'id externalId displayName description url properties updateSequenceNumber createdAt lastUpdatedAt container { externalId }';

async function lookup(externalId: string, type = 'jira:work-item') {
  const result = await t.graphql(reader.token, `query($c: ID!, $t: String!, $e: String!) { objectByExternalId(connectionId: $c, type: $t, externalId: $e) { ${OBJECT_FIELDS} } }`, {
    c: tenant.connectionId,
    t: type,
    e: externalId,
  });
  expect(result.body.errors).toBeUndefined();
  return result.body.data.objectByExternalId;
}

describe('setObjects', () => {
  it('stores every field of an accepted object', async () => {
    const payload = await tenant.ingest('setObjects', {
      objects: [
        objectInput('F-1', {
          displayName: 'Fields',
          description: 'All of them',
          url: 'https://jira.example/F-1',
          properties: { status: 'Open', points: 3 },
          createdAt: '2026-01-02T03:04:05Z',
          lastUpdatedAt: '2026-02-03T04:05:06.789Z',
          updateSequenceNumber: 7,
        }),
      ],
    });
    expect(payload).toMatchObject({ acceptedCount: 1, staleCount: 0, rejectedCount: 0, results: [{ index: 0, externalId: 'F-1', status: 'ACCEPTED', code: null }] });
    expect(await lookup('F-1')).toMatchObject({
      externalId: 'F-1',
      displayName: 'Fields',
      description: 'All of them',
      url: 'https://jira.example/F-1',
      properties: { status: 'Open', points: 3 },
      updateSequenceNumber: 7,
      createdAt: '2026-01-02T03:04:05.000Z',
      lastUpdatedAt: '2026-02-03T04:05:06.789Z',
    });
  });

  it('reports a write with a sequence number not newer than the stored one as STALE and keeps the stored object', async () => {
    await tenant.ingest('setObjects', { objects: [objectInput('S-1', { displayName: 'v5', updateSequenceNumber: 5 })] });
    const payload = await tenant.ingest('setObjects', {
      objects: [objectInput('S-1', { displayName: 'older', updateSequenceNumber: 4 }), objectInput('S-1', { displayName: 'same', updateSequenceNumber: 5 })],
    });
    expect(payload.results.map((r: any) => r.status)).toEqual(['STALE', 'STALE']);
    expect(payload.staleCount).toBe(2);
    expect((await lookup('S-1')).displayName).toBe('v5');
    await tenant.ingest('setObjects', { objects: [objectInput('S-1', { displayName: 'v6', updateSequenceNumber: 6 })] });
    expect((await lookup('S-1')).displayName).toBe('v6');
  });

  it('applies several versions of one object in one batch in order', async () => {
    const payload = await tenant.ingest('setObjects', {
      objects: [objectInput('B-1', { displayName: 'one', updateSequenceNumber: 1 }), objectInput('B-1', { displayName: 'three', updateSequenceNumber: 3 }), objectInput('B-1', { displayName: 'two', updateSequenceNumber: 2 })],
    });
    expect(payload.results.map((r: any) => r.status)).toEqual(['ACCEPTED', 'ACCEPTED', 'STALE']);
    expect((await lookup('B-1')).displayName).toBe('three');
  });

  it('rejects each invalid item with its own code and stores the valid ones', async () => {
    const tooMany = Array.from({ length: 501 }, (_, i) => userPrincipal(`u${i}`));
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'jira:nonsense' }, 'UNKNOWN_OBJECT_TYPE'],
      [{ externalId: '' }, 'INVALID_EXTERNAL_ID'],
      [{ externalId: 'x'.repeat(256) }, 'INVALID_EXTERNAL_ID'],
      [{ displayName: '' }, 'INVALID_DISPLAY_NAME'],
      [{ displayName: 'x'.repeat(256) }, 'INVALID_DISPLAY_NAME'],
      [{ description: 'x'.repeat(10_001) }, 'DESCRIPTION_TOO_LONG'],
      [{ url: 'javascript:alert(1)' }, 'INVALID_URL'],
      [{ url: `https://x.example/${'a'.repeat(2_040)}` }, 'INVALID_URL'],
      [{ properties: [1, 2] }, 'INVALID_PROPERTIES'],
      [{ properties: { blob: 'x'.repeat(33 * 1024) } }, 'PROPERTIES_TOO_LARGE'],
      [{ updateSequenceNumber: -1 }, 'INVALID_SEQUENCE_NUMBER'],
      [{ permissions: [{ action: 'EDIT', accessControls: [{ principals: [{ type: 'ATLASSIAN_WORKSPACE' }] }] }] }, 'MISSING_VIEW_PERMISSION'],
      [{ permissions: [] }, 'MISSING_VIEW_PERMISSION'],
      [{ permissions: viewAcl([]) }, 'EMPTY_ACCESS_CONTROL'],
      [{ permissions: viewAcl([{ type: 'USER' }]) }, 'PRINCIPAL_ID_REQUIRED'],
      [{ permissions: viewAcl([{ type: 'ATLASSIAN_WORKSPACE', id: 'x' }]) }, 'PRINCIPAL_ID_NOT_ALLOWED'],
      [{ permissions: viewAcl(tooMany) }, 'TOO_MANY_PRINCIPALS'],
      [{ container: { type: 'jira:work-item', externalId: 'R-self' }, externalId: 'R-self' }, 'CONTAINER_CYCLE'],
    ];
    const objects = [objectInput('R-ok'), ...cases.map(([overrides], i) => objectInput(`R-${i}`, overrides))];
    const payload = await tenant.ingest('setObjects', { objects });
    expect(payload.results[0].status).toBe('ACCEPTED');
    expect(payload.results.slice(1).map((r: any) => r.code)).toEqual(cases.map(([, code]) => code));
    expect(payload.results.slice(1).every((r: any) => r.status === 'REJECTED' && r.message)).toBe(true);
    expect(payload.rejectedCount).toBe(cases.length);
    expect(await lookup('R-ok')).not.toBeNull();
    expect(await lookup('R-1')).toBeNull();
  });

  it('accepts exactly 500 principals and harmless duplicates', async () => {
    const principals = [...Array.from({ length: 499 }, (_, i) => userPrincipal(`u${i}`)), { type: 'ATLASSIAN_WORKSPACE' }];
    const payload = await tenant.ingest('setObjects', { objects: [objectInput('P-500', { permissions: viewAcl(principals) })] });
    expect(payload.results[0].status).toBe('ACCEPTED');
    expect(await lookup('P-500')).not.toBeNull();
    const ok = await tenant.ingest('setObjects', { objects: [objectInput('P-dup', { permissions: viewAcl([{ type: 'ATLASSIAN_WORKSPACE' }, { type: 'ATLASSIAN_WORKSPACE' }]) })] });
    expect(ok.results[0].status).toBe('ACCEPTED');
    expect(await lookup('P-dup')).not.toBeNull();
  });

  it('refuses a batch of more than 100 items as a whole', async () => {
    const objects = Array.from({ length: 101 }, (_, i) => objectInput(`L-${i}`));
    const result = await t.graphql(tenant.connectionToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', { i: { connectionId: tenant.connectionId, objects } });
    expect(result.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', subCode: 'BATCH_TOO_LARGE' });
    expect(await lookup('L-0')).toBeNull();
  });

  it('refuses writes to another connection and ingestion by an account', async () => {
    const other = await createTenant(t, 'Other');
    const foreign = await t.graphql(tenant.connectionToken, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', {
      i: { connectionId: other.connectionId, objects: [objectInput('X-1')] },
    });
    expect(foreign.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const byAccount = await t.graphql(reader.token, 'mutation($i: SetObjectsInput!) { setObjects(input: $i) { acceptedCount } }', {
      i: { connectionId: tenant.connectionId, objects: [objectInput('X-2')] },
    });
    expect(byAccount.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('links a child to a container ingested after it', async () => {
    const container = { type: 'jira:project', externalId: 'LATE' };
    await tenant.ingest('setObjects', { objects: [objectInput('C-1', { container, permissions: viewAcl([{ type: 'CONTAINER' }]) })] });
    expect(await lookup('C-1')).toBeNull();
    await tenant.ingest('setObjects', { objects: [objectInput('LATE', { type: 'jira:project' })] });
    expect(await lookup('C-1')).toMatchObject({ container: { externalId: 'LATE' } });
  });

  it('rejects a write that would make an object its own ancestor', async () => {
    const ref = (id: string) => ({ type: 'jira:project', externalId: id });
    await tenant.ingest('setObjects', {
      objects: [objectInput('CY-A', { type: 'jira:project' }), objectInput('CY-B', { type: 'jira:project', container: ref('CY-A') }), objectInput('CY-C', { type: 'jira:project', container: ref('CY-B') })],
    });
    const payload = await tenant.ingest('setObjects', { objects: [objectInput('CY-A', { type: 'jira:project', container: ref('CY-C'), updateSequenceNumber: 2 })] });
    expect(payload.results[0]).toMatchObject({ status: 'REJECTED', code: 'CONTAINER_CYCLE' });
    const inBatch = await tenant.ingest('setObjects', {
      objects: [objectInput('CY-X', { type: 'jira:project', container: ref('CY-Y') }), objectInput('CY-Y', { type: 'jira:project', container: ref('CY-X') })],
    });
    expect(inBatch.results.map((r: any) => r.status)).toEqual(['ACCEPTED', 'REJECTED']);
  });
});

describe('deleteObjects', () => {
  it('keeps a tombstone so an older write cannot bring the object back', async () => {
    await tenant.ingest('setObjects', { objects: [objectInput('D-1', { updateSequenceNumber: 3 })] });
    const stale = await tenant.ingest('deleteObjects', { objects: [{ type: 'jira:work-item', externalId: 'D-1', updateSequenceNumber: 3 }] });
    expect(stale.results[0].status).toBe('STALE');
    const deleted = await tenant.ingest('deleteObjects', { objects: [{ type: 'jira:work-item', externalId: 'D-1', updateSequenceNumber: 4 }] });
    expect(deleted.results[0].status).toBe('ACCEPTED');
    expect(await lookup('D-1')).toBeNull();
    const late = await tenant.ingest('setObjects', { objects: [objectInput('D-1', { updateSequenceNumber: 4 })] });
    expect(late.results[0].status).toBe('STALE');
    expect(await lookup('D-1')).toBeNull();
    const newer = await tenant.ingest('setObjects', { objects: [objectInput('D-1', { updateSequenceNumber: 5 })] });
    expect(newer.results[0].status).toBe('ACCEPTED');
    expect(await lookup('D-1')).not.toBeNull();
  });

  it('records a tombstone for an object never stored', async () => {
    const deleted = await tenant.ingest('deleteObjects', { objects: [{ type: 'jira:work-item', externalId: 'D-never', updateSequenceNumber: 10 }] });
    expect(deleted.results[0].status).toBe('ACCEPTED');
    const late = await tenant.ingest('setObjects', { objects: [objectInput('D-never', { updateSequenceNumber: 9 })] });
    expect(late.results[0].status).toBe('STALE');
  });
});

describe('users, groups and mappings', () => {
  it('validates and orders user writes by sequence number', async () => {
    const payload = await tenant.ingest('setUsers', {
      users: [
        { externalId: 'uu-1', displayName: 'One', updateSequenceNumber: 2 },
        { externalId: 'uu-1', displayName: 'Older', updateSequenceNumber: 1 },
        { externalId: '', updateSequenceNumber: 1 },
      ],
    });
    expect(payload.results.map((r: any) => r.status)).toEqual(['ACCEPTED', 'STALE', 'REJECTED']);
    const deleted = await tenant.ingest('deleteUsers', { items: [{ externalId: 'uu-1', updateSequenceNumber: 2 }] });
    expect(deleted.results[0].status).toBe('STALE');
  });

  it('rejects a group with more than 10,000 members', async () => {
    const members = Array.from({ length: 10_001 }, (_, i) => ({ type: 'USER', externalId: `m${i}` }));
    const payload = await tenant.ingest('setGroups', { groups: [{ externalId: 'big', members, updateSequenceNumber: 1 }] });
    expect(payload.results[0]).toMatchObject({ status: 'REJECTED', code: 'TOO_MANY_MEMBERS' });
  });

  it('rejects a mapping naming both or neither of account and e-mail, or an unknown account', async () => {
    const payload = await tenant.ingest('mapUsers', {
      directMappings: [
        { externalId: 'm-1', updateSequenceNumber: 1 },
        { externalId: 'm-2', accountId: reader.accountId, externalEmailAddress: 'x@y.test', updateSequenceNumber: 1 },
        { externalId: 'm-3', accountId: 'acc_nope', updateSequenceNumber: 1 },
      ],
    });
    expect(payload.results.map((r: any) => r.code)).toEqual(['INVALID_MAPPING', 'INVALID_MAPPING', 'UNKNOWN_ACCOUNT']);
  });

  it('refuses a mapping to an account of another organisation', async () => {
    const other = await createTenant(t, 'Elsewhere');
    const stranger = await other.account();
    const payload = await tenant.ingest('mapUsers', { directMappings: [{ externalId: 'm-4', accountId: stranger.accountId, updateSequenceNumber: 1 }] });
    expect(payload.results[0]).toMatchObject({ status: 'REJECTED', code: 'UNKNOWN_ACCOUNT' });
  });
});

describe('relationships', () => {
  it('stores edges between objects of the connection, orders them by sequence number and rejects missing ends', async () => {
    await tenant.ingest('setObjects', { objects: [objectInput('E-1'), objectInput('E-2')] });
    const edge = { type: 'work-item-links-work-item', from: { type: 'jira:work-item', externalId: 'E-1' }, to: { type: 'jira:work-item', externalId: 'E-2' } };
    const payload = await tenant.ingest('setRelationships', {
      relationships: [
        { ...edge, updateSequenceNumber: 2 },
        { ...edge, updateSequenceNumber: 1 },
        { ...edge, to: { type: 'jira:work-item', externalId: 'E-missing' }, updateSequenceNumber: 1 },
        { ...edge, type: 'Not A Slug', updateSequenceNumber: 1 },
      ],
    });
    expect(payload.results.map((r: any) => r.code ?? r.status)).toEqual(['ACCEPTED', 'STALE', 'OBJECT_NOT_FOUND', 'INVALID_RELATIONSHIP_TYPE']);
    const deleted = await tenant.ingest('deleteRelationships', { relationships: [{ ...edge, updateSequenceNumber: 3 }] });
    expect(deleted.results[0].status).toBe('ACCEPTED');
    const late = await tenant.ingest('setRelationships', { relationships: [{ ...edge, updateSequenceNumber: 3 }] });
    expect(late.results[0].status).toBe('STALE');
  });
});

describe('hostile input', () => {
  const NUL = '\u0000';
  const HOUR = 3_600_000;
  const edgeBetween = (from: string, to: string) => ({ type: 'work-item-links-work-item', from: { type: 'jira:work-item', externalId: from }, to: { type: 'jira:work-item', externalId: to } });

  /** The results as [code or status, message] per item, for one readable comparison. */
  const outcomes = (payload: any) => payload.results.map((r: any) => [r.code ?? r.status, r.message]);

  /** Sends a raw JSON body, for variables that JSON.stringify itself cannot build (too deep). */
  async function postRaw(body: string) {
    const response = await t.app.fetch(
      new Request('http://teamgraph.test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.connectionToken}` }, body }),
      {},
    );
    return { status: response.status, body: await response.json() };
  }

  const nested = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`;

  it('rejects an object with U+0000 in any string or key, naming the field, and stores the rest of the batch', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ displayName: `Bad${NUL}name` }, 'displayName'],
      [{ description: `x${NUL}` }, 'description'],
      [{ properties: { [`key${NUL}`]: 1 } }, 'properties'],
      [{ properties: { a: { b: `value${NUL}` } } }, 'properties.a.b'],
      [{ properties: { list: [1, { 'odd key': [NUL] }] } }, 'properties.list[1]["odd key"][0]'],
      [{ container: { type: 'jira:project', externalId: `P${NUL}` } }, 'container.externalId'],
      [{ permissions: viewAcl([userPrincipal(`u${NUL}`)]) }, 'permissions[0].accessControls[0].principals[0].id'],
      [{ properties: { lone: '\ud800' } }, 'properties.lone'],
    ];
    const payload = await tenant.ingest('setObjects', {
      objects: [objectInput('H-ok-1'), ...cases.map(([overrides], i) => objectInput(`H-${i}`, overrides)), objectInput('H-ok-2', { properties: { pair: '😀', tab: 'a\tb' } })],
    });
    expect(payload.results.slice(1, -1).map((r: any) => [r.index, r.status, r.code])).toEqual(cases.map((_, i) => [i + 1, 'REJECTED', 'INVALID_CHARACTER']));
    cases.forEach(([, path], i) => expect(payload.results[i + 1].message).toContain(path));
    expect(payload).toMatchObject({ acceptedCount: 2, rejectedCount: cases.length });
    expect(await lookup('H-ok-1')).not.toBeNull();
    expect((await lookup('H-ok-2')).properties).toEqual({ pair: '😀', tab: 'a\tb' });
    expect(await lookup('H-0')).toBeNull();
  });

  it('rejects U+0000 in an externalId of every ingestion mutation and applies the rest of the batch', async () => {
    await tenant.ingest('setObjects', { objects: [objectInput('HX-1'), objectInput('HX-2'), objectInput('HX-3')] });
    const objects = await tenant.ingest('deleteObjects', {
      objects: [{ type: 'jira:work-item', externalId: `HX${NUL}`, updateSequenceNumber: 2 }, { type: 'jira:work-item', externalId: 'HX-3', updateSequenceNumber: 2 }],
    });
    expect(objects.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'ACCEPTED']);
    expect(await lookup('HX-3')).toBeNull();

    const edges = await tenant.ingest('setRelationships', {
      relationships: [
        { ...edgeBetween(`HX${NUL}`, 'HX-2'), updateSequenceNumber: 1 },
        { ...edgeBetween('HX-1', 'HX-2'), type: `links${NUL}`, updateSequenceNumber: 1 },
        { ...edgeBetween('HX-1', 'HX-2'), updateSequenceNumber: 1 },
      ],
    });
    expect(outcomes(edges).map(([code]: string[]) => code)).toEqual(['INVALID_CHARACTER', 'INVALID_CHARACTER', 'ACCEPTED']);
    expect(edges.results[0].message).toContain('from.externalId');
    const deletedEdges = await tenant.ingest('deleteRelationships', {
      relationships: [{ ...edgeBetween('HX-1', `HX${NUL}`), updateSequenceNumber: 2 }, { ...edgeBetween('HX-1', 'HX-2'), updateSequenceNumber: 2 }],
    });
    expect(deletedEdges.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'ACCEPTED']);
    expect(deletedEdges.results[0].message).toContain('to.externalId');

    const users = await tenant.ingest('setUsers', {
      users: [
        { externalId: `hu${NUL}`, updateSequenceNumber: 1 },
        { externalId: 'hu-1', displayName: `A${NUL}`, updateSequenceNumber: 1 },
        { externalId: 'hu-2', email: `a${NUL}@x.test`, updateSequenceNumber: 1 },
        { externalId: 'hu-3', displayName: 'Three', email: 'three@x.test', updateSequenceNumber: 1 },
        { externalId: 'hu-4', updateSequenceNumber: 1 },
      ],
    });
    expect(outcomes(users).map(([code]: string[]) => code)).toEqual(['INVALID_CHARACTER', 'INVALID_CHARACTER', 'INVALID_CHARACTER', 'ACCEPTED', 'ACCEPTED']);
    expect(users.results.map((r: any) => r.message)).toEqual([expect.stringContaining('externalId'), expect.stringContaining('displayName'), expect.stringContaining('email'), null, null]);
    const deletedUsers = await tenant.ingest('deleteUsers', { items: [{ externalId: `hu${NUL}`, updateSequenceNumber: 2 }, { externalId: 'hu-4', updateSequenceNumber: 2 }] });
    expect(deletedUsers.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'ACCEPTED']);
    expect(await storedUsers(['hu-1', 'hu-2', 'hu-3', 'hu-4'])).toEqual([
      { external_id: 'hu-3', display_name: 'Three', email: 'three@x.test', deleted: false },
      { external_id: 'hu-4', display_name: null, email: null, deleted: true },
    ]);

    const groups = await tenant.ingest('setGroups', {
      groups: [
        { externalId: 'hg-1', members: [{ type: 'USER', externalId: 'hu-3' }, { type: 'USER', externalId: `hu${NUL}` }], updateSequenceNumber: 1 },
        { externalId: 'hg-2', displayName: 'Two', members: [{ type: 'USER', externalId: 'hu-3' }, { type: 'GROUP', externalId: 'hg-3' }], updateSequenceNumber: 1 },
        { externalId: 'hg-3', members: [], updateSequenceNumber: 1 },
      ],
    });
    expect(groups.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'ACCEPTED', 'ACCEPTED']);
    expect(groups.results[0].message).toContain('members[1].externalId');
    const deletedGroups = await tenant.ingest('deleteGroups', { items: [{ externalId: `hg${NUL}`, updateSequenceNumber: 2 }, { externalId: 'hg-3', updateSequenceNumber: 2 }] });
    expect(deletedGroups.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'ACCEPTED']);
    const members = await t.db.selectFrom('group_member').select(['group_external_id', 'member_type', 'member_external_id']).where('org_id', '=', tenant.orgId).where('group_external_id', 'like', 'hg-%').orderBy('group_external_id').execute();
    expect(members).toEqual([{ group_external_id: 'hg-2', member_type: 'USER', member_external_id: 'hu-3' }]);

    const mapped = await tenant.ingest('mapUsers', {
      directMappings: [
        { externalId: 'hu-3', externalEmailAddress: `three${NUL}@x.test`, updateSequenceNumber: 1 },
        { externalId: 'hu-3', accountId: `acc${NUL}`, updateSequenceNumber: 1 },
        { externalId: 'hu-1', externalEmailAddress: 'someone-later@x.test', updateSequenceNumber: 1 },
        { externalId: 'hu-3', accountId: reader.accountId, updateSequenceNumber: 2 },
      ],
    });
    expect(mapped.results.map((r: any) => r.code ?? r.status)).toEqual(['INVALID_CHARACTER', 'INVALID_CHARACTER', 'ACCEPTED', 'ACCEPTED']);
    expect(mapped.results.slice(0, 2).map((r: any) => r.message)).toEqual([expect.stringContaining('externalEmailAddress'), expect.stringContaining('accountId')]);
    const links = await t.db.selectFrom('user_link').select(['external_id', 'account_id', 'pending_email']).where('org_id', '=', tenant.orgId).where('external_id', 'in', ['hu-1', 'hu-3']).orderBy('external_id').execute();
    expect(links).toEqual([
      { external_id: 'hu-1', account_id: null, pending_email: 'someone-later@x.test' },
      { external_id: 'hu-3', account_id: reader.accountId, pending_email: null },
    ]);
  });

  it(`rejects properties nested deeper than ${MAX_INPUT_DEPTH} levels, even 20,000 deep, and stores the rest of the batch`, async () => {
    const deepest = JSON.parse(nested(MAX_INPUT_DEPTH));
    const payload = await tenant.ingest('setObjects', {
      objects: [objectInput('N-limit', { properties: deepest }), objectInput('N-over', { properties: JSON.parse(nested(MAX_INPUT_DEPTH + 1)) })],
    });
    expect(payload.results.map((r: any) => r.code ?? r.status)).toEqual(['ACCEPTED', 'PROPERTIES_TOO_DEEP']);
    expect(payload.results[1].message).toContain(String(MAX_INPUT_DEPTH));
    expect((await lookup('N-limit')).properties).toEqual(deepest);

    const good = JSON.stringify(objectInput('N-ok'));
    const deep = JSON.stringify(objectInput('N-deep', { properties: '@' })).replace('"@"', nested(20_000));
    const selection = '{ acceptedCount rejectedCount results { index status code message } }';
    const body = `{"query":"mutation($i: SetObjectsInput!) { setObjects(input: $i) ${selection} }","variables":{"i":{"connectionId":"${tenant.connectionId}","objects":[${good},${deep}]}}}`;
    expect(body.length).toBeGreaterThan(100_000);
    expect(body.length).toBeLessThan(1024 * 1024);
    const result = await postRaw(body);
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.setObjects).toMatchObject({ acceptedCount: 1, rejectedCount: 1, results: [{ status: 'ACCEPTED' }, { index: 1, status: 'REJECTED', code: 'PROPERTIES_TOO_DEEP' }] });
    expect(await lookup('N-ok')).not.toBeNull();
    expect(await lookup('N-deep')).toBeNull();

    const edge = JSON.stringify({ ...edgeBetween('N-ok', 'N-limit'), properties: '@', updateSequenceNumber: 1 }).replace('"@"', nested(20_000));
    const edges = await postRaw(
      `{"query":"mutation($i: SetRelationshipsInput!) { setRelationships(input: $i) ${selection} }","variables":{"i":{"connectionId":"${tenant.connectionId}","relationships":[${edge}]}}}`,
    );
    expect(edges.body.errors).toBeUndefined();
    expect(edges.body.data.setRelationships.results[0]).toMatchObject({ status: 'REJECTED', code: 'PROPERTIES_TOO_DEEP' });
  });

  it('rejects control characters in a url, stores the normalised form, and refuses other schemes', async () => {
    const refused = ['https://ok.example/\n<script>', 'https://ok.example/a\tb', 'https://ok.example/\u007f', 'https://ok.example/\u0085', '\u0001https://ok.example/', 'javascript:alert(1)', 'ftp://ok.example/', 'not a url', `https://x.example/${'é'.repeat(700)}`];
    const payload = await tenant.ingest('setObjects', {
      objects: [objectInput('U-norm', { url: 'HTTPS://Ok.Example/a/../b' }), ...refused.map((url, i) => objectInput(`U-${i}`, { url })), objectInput('U-plain', { url: 'http://ok.example:80/x?q=1#f' })],
    });
    expect(payload.results.map((r: any) => r.code ?? r.status)).toEqual(['ACCEPTED', ...refused.map(() => 'INVALID_URL'), 'ACCEPTED']);
    expect((await lookup('U-norm')).url).toBe('https://ok.example/b');
    expect((await lookup('U-plain')).url).toBe('http://ok.example/x?q=1#f');
    expect(await lookup('U-0')).toBeNull();
  });

  it('rejects times more than a day ahead of the server clock, item by item', async () => {
    const now = t.clock.now().getTime();
    const at = (ms: number) => new Date(ms).toISOString();
    const payload = await tenant.ingest('setObjects', {
      objects: [
        objectInput('T-far', { createdAt: '9999-12-31T23:59:59Z' }),
        objectInput('T-soon', { createdAt: at(now - HOUR), lastUpdatedAt: at(now + HOUR) }),
        objectInput('T-day', { lastUpdatedAt: at(now + 25 * HOUR) }),
        objectInput('T-old', { createdAt: '0100-01-01T00:00:00Z', lastUpdatedAt: '1970-01-01T00:00:00Z' }),
        objectInput('T-edge', { lastUpdatedAt: at(now + 24 * HOUR) }),
      ],
    });
    expect(payload.results.map((r: any) => r.code ?? r.status)).toEqual(['TIME_IN_FUTURE', 'ACCEPTED', 'TIME_IN_FUTURE', 'ACCEPTED', 'ACCEPTED']);
    expect(payload.results[0].message).toContain('createdAt');
    expect(payload.results[2].message).toContain('lastUpdatedAt');
    expect(await lookup('T-soon')).toMatchObject({ createdAt: at(now - HOUR), lastUpdatedAt: at(now + HOUR) });
    expect(await lookup('T-old')).toMatchObject({ createdAt: '0100-01-01T00:00:00.000Z', lastUpdatedAt: '1970-01-01T00:00:00.000Z' });
    expect(await lookup('T-far')).toBeNull();
  });

  it('rejects a time before year 100, which the back ends cannot store or read back, as that item alone', async () => {
    const payload = await tenant.ingest('setObjects', {
      objects: [
        objectInput('T-zero', { createdAt: '0000-06-01T00:00:00Z' }),
        objectInput('T-bc', { lastUpdatedAt: '0000-01-01T00:00:00+23:59' }),
        objectInput('T-one', { createdAt: '0001-01-01T00:00:00Z' }),
        objectInput('T-fine'),
      ],
    });
    expect(payload.results.map((r: any) => r.code ?? r.status)).toEqual(['TIME_TOO_EARLY', 'TIME_TOO_EARLY', 'TIME_TOO_EARLY', 'ACCEPTED']);
    expect(payload.results[1].message).toContain('lastUpdatedAt');
    expect(await lookup('T-fine')).not.toBeNull();
  });
});

async function storedUsers(externalIds: string[]) {
  return t.db
    .selectFrom('external_user')
    .select(['external_id', 'display_name', 'email', 'deleted'])
    .where('org_id', '=', tenant.orgId)
    .where('external_id', 'in', externalIds)
    .orderBy('external_id')
    .execute();
}
