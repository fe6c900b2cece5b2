// The benchmark's dataset: one organisation, one site, one connection, a directory of
// third-party users in nested groups, and N objects with realistic ACLs (PRODUCT §2–3), built
// through the project's own services. Deterministic: a seeded mulberry32 decides everything, so
// the same options always build the same graph.
//
// Three viewer accounts are the point of the exercise (PERFORMANCE.md: fast at both ends):
//   wide    a site member linked to a third-party user who is in every group and a collaborator
//           on every USER list: sees everything but the private drafts (~99.9%).
//   narrow  a guest (not a site member) reached by USER, a nested GROUP, two containers and a
//           few ANDs: ~1%.
//   rare    a guest reached by ten objects in all: ~0.01% of 100,000.
// The narrow and rare objects are drawn uniformly from the whole set and every object's
// lastUpdatedAt is drawn uniformly over a year, so their objects are spread through the newest-
// first order instead of sitting at its head. A few "near misses" name the narrow or rare viewer
// in one control of an AND they do not satisfy, so the inverted index holds candidates that the
// filter must reject.
//
// The plan also computes, with the pure ACL engine, which objects each viewer may see, so the
// benchmark can check the API against an answer it did not produce.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type PermissionSpec, compileAcl, groupKey, userKey, workspaceKey } from '../src/authz/acl.ts';
import { type AclNode, isAllowed } from '../src/authz/acl-engine.ts';
import type { Services } from '../src/graphql/context.ts';
import type { ExternalGroupInput, ExternalUserInput } from '../src/modules/directory/directory.service.ts';
import type { IngestionPayload } from '../src/modules/ingestion/ingestion.ts';
import type { ObjectInput } from '../src/modules/object/object.service.ts';
import type { ConnectionCaller } from '../src/modules/session/caller.ts';

export const VIEWERS = ['wide', 'narrow', 'rare'] as const;
export type ViewerName = (typeof VIEWERS)[number];
/** The share of objects each viewer is designed to see, for labels. */
export const VIEWER_TARGET: Record<ViewerName, string> = { wide: '~100%', narrow: '~1%', rare: '~0.01%' };

export const BATCH_SIZE = 100;
const DEFAULT_SEED = 20240601;

/** A small seeded PRNG (mulberry32): uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  /** k distinct items, in random order (partial Fisher–Yates over a copy). */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = [...items];
    const n = Math.min(k, copy.length);
    for (let i = 0; i < n; i++) {
      const j = i + this.int(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, n);
  }
}

export interface ViewerSpec {
  email: string;
  displayName: string;
  /** The third-party user linked to the account. */
  externalUserId: string;
  /** Site members match ATLASSIAN_WORKSPACE. */
  siteMember: boolean;
}

export interface DatasetPlan {
  objectCount: number;
  seed: number;
  users: ExternalUserInput[];
  groups: ExternalGroupInput[];
  viewers: Record<ViewerName, ViewerSpec>;
  /** Other accounts linked to third-party users, as a real organisation has. */
  fillerAccounts: ViewerSpec[];
  /** Containers first, then the rest; ingested in this order in batches of BATCH_SIZE. */
  objects: ObjectInput[];
  /** How many objects use each kind of ACL. */
  mix: Record<string, number>;
  /** The externalIds (unique across types here) each viewer may see, by the pure engine. */
  expected: Record<ViewerName, Set<string>>;
}

// Placeholders for the connection and site in the reference model; the keys only need to agree
// with the viewers' keys built with the same placeholders.
const MODEL_CONNECTION = 'model-connection';
const MODEL_SITE = 'model-site';

const WIDE_USER = 'u-wide';
const NARROW_USER = 'u-narrow';
const RARE_USER = 'u-rare';
const NARROW_TEAM = 'grp-narrow-team';
const NARROW_DEPT = 'grp-narrow-dept';
const RARE_TEAM = 'grp-rare-team';
const RARE_CIRCLE = 'grp-rare-circle';

const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;
const WORDS = (
  'roadmap release backend frontend billing search onboarding latency quarterly design review migration incident ' +
  'payments mobile api schema audit security rollout metrics dashboard customer support pipeline cache index ' +
  'deploy staging retro planning hiring budget contract invoice analytics export import sync webhook alert'
).split(' ');

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));
const pad = (n: number, width: number) => String(n).padStart(width, '0');

const user = (id: string) => ({ type: 'USER' as const, id });
const group = (id: string) => ({ type: 'GROUP' as const, id });
const WORKSPACE = { type: 'ATLASSIAN_WORKSPACE' as const };
const CONTAINER = { type: 'CONTAINER' as const };
type Principal = ReturnType<typeof user> | ReturnType<typeof group> | typeof WORKSPACE | typeof CONTAINER;
const userMember = (externalId: string) => ({ type: 'USER' as const, externalId });
const groupMember = (externalId: string) => ({ type: 'GROUP' as const, externalId });

/** VIEW controls (AND of ORs); container children also follow their container for EDIT. */
function permissions(viewControls: Principal[][]): PermissionSpec[] {
  const specs: PermissionSpec[] = [{ accessControls: viewControls.map((principals) => ({ principals })) }];
  if (viewControls.some((control) => control.some((p) => p.type === 'CONTAINER'))) {
    specs.push({ action: 'EDIT', accessControls: [{ principals: [CONTAINER] }] });
  }
  return specs;
}

interface ContainerRef {
  type: 'jira:project' | 'confluence:space' | 'confluence:page';
  externalId: string;
}
const childTypeOf = (container: ContainerRef) => (container.type === 'jira:project' ? 'jira:work-item' : 'confluence:page');

export function generateDataset(options: { objects: number; seed?: number }): DatasetPlan {
  const n = options.objects;
  if (!Number.isInteger(n) || n < 100) throw new Error(`--objects must be an integer of at least 100, got ${n}.`);
  const seed = options.seed ?? DEFAULT_SEED;
  const rng = new Random(seed);

  // The directory scales with the graph: ~5,000 users and ~250 groups at 100,000 objects.
  const userCount = clamp(Math.round(n / 20), 60, 5000);
  const genericUsers = Array.from({ length: userCount }, (_, i) => `u-${pad(i + 1, 5)}`);
  const users: ExternalUserInput[] = [WIDE_USER, NARROW_USER, RARE_USER, ...genericUsers].map((externalId) => ({
    externalId,
    displayName: `User ${externalId}`,
    email: `${externalId}@bench.teamgraph.test`,
    updateSequenceNumber: 1,
  }));

  // Generic groups in three levels (team ⊂ department ⊂ division) with one membership cycle
  // between two divisions. The wide viewer's user is in every team, so in every group.
  const teamCount = clamp(Math.round(n / 500), 10, 400);
  const teams = Array.from({ length: teamCount }, (_, i) => `grp-team-${pad(i + 1, 3)}`);
  const departments = Array.from({ length: Math.ceil(teamCount / 5) }, (_, i) => `grp-dept-${pad(i + 1, 3)}`);
  const divisions = Array.from({ length: Math.ceil(departments.length / 10) }, (_, i) => `grp-div-${i + 1}`);
  const groups: ExternalGroupInput[] = [];
  const addGroup = (externalId: string, members: ExternalGroupInput['members']) =>
    groups.push({ externalId, displayName: externalId.replace(/^grp-/, '').replace(/-/g, ' '), members, updateSequenceNumber: 1 });
  for (const team of teams) {
    addGroup(team, [userMember(WIDE_USER), ...rng.sample(genericUsers, rng.between(8, 40)).map(userMember)]);
  }
  departments.forEach((dept, d) => {
    addGroup(dept, [...teams.slice(d * 5, d * 5 + 5).map(groupMember), ...rng.sample(genericUsers, rng.between(0, 3)).map(userMember)]);
  });
  divisions.forEach((division, v) => {
    const cycle = divisions.length > 1 && (v === 0 || v === divisions.length - 1) ? [groupMember(divisions[v === 0 ? divisions.length - 1 : 0])] : [];
    addGroup(division, [...departments.slice(v * 10, v * 10 + 10).map(groupMember), ...cycle]);
  });
  // The guests' groups contain generic groups (downwards), but no generic group contains them:
  // their closure stays {team, circle/dept}.
  addGroup(NARROW_TEAM, [userMember(NARROW_USER), userMember(WIDE_USER), ...rng.sample(genericUsers, 10).map(userMember)]);
  addGroup(NARROW_DEPT, [groupMember(NARROW_TEAM), groupMember(rng.pick(teams)), ...rng.sample(genericUsers, 3).map(userMember)]);
  addGroup(RARE_TEAM, [userMember(RARE_USER), userMember(WIDE_USER), ...rng.sample(genericUsers, 2).map(userMember)]);
  addGroup(RARE_CIRCLE, [groupMember(RARE_TEAM), ...rng.sample(genericUsers, 2).map(userMember)]);
  const genericGroup = () => (rng.chance(0.7) ? rng.pick(teams) : rng.chance(0.85) ? rng.pick(departments) : rng.pick(divisions));

  const viewers: Record<ViewerName, ViewerSpec> = {
    wide: { email: 'wide@bench.teamgraph.test', displayName: 'Wide Viewer', externalUserId: WIDE_USER, siteMember: true },
    narrow: { email: 'narrow@bench.teamgraph.test', displayName: 'Narrow Viewer', externalUserId: NARROW_USER, siteMember: false },
    rare: { email: 'rare@bench.teamgraph.test', displayName: 'Rare Viewer', externalUserId: RARE_USER, siteMember: false },
  };
  const fillerAccounts: ViewerSpec[] = genericUsers.slice(0, 50).map((externalId) => ({
    email: `${externalId}@bench.teamgraph.test`,
    displayName: `Account ${externalId}`,
    externalUserId: externalId,
    siteMember: true,
  }));

  // Lists of users always include the wide viewer (think: the owner of every project), plus an
  // owner and a few collaborators.
  const people = (...named: string[]) => [...named, WIDE_USER, ...rng.sample(genericUsers, rng.between(1, 4))].map(user);

  const objects: ObjectInput[] = [];
  const mix: Record<string, number> = {};
  const timestamps = () => {
    const lastUpdatedAt = new Date(YEAR_START + rng.int(YEAR_MS));
    return { lastUpdatedAt, createdAt: new Date(lastUpdatedAt.getTime() - rng.int(60 * 24 * 3600 * 1000)) };
  };
  const text = (min: number, max: number) => Array.from({ length: rng.between(min, max) }, () => rng.pick(WORDS)).join(' ');
  const add = (kind: string, input: Omit<ObjectInput, 'displayName' | 'description' | 'url' | 'updateSequenceNumber' | 'properties'>) => {
    mix[kind] = (mix[kind] ?? 0) + 1;
    const title = text(3, 8);
    objects.push({
      ...input,
      displayName: title.charAt(0).toUpperCase() + title.slice(1),
      description: text(10, 45),
      url: `https://bench.example/${input.type.replace(':', '/')}/${input.externalId}`,
      properties: { status: rng.pick(['To Do', 'In Progress', 'In Review', 'Done']), priority: rng.between(1, 5) },
      updateSequenceNumber: 1,
      ...timestamps(),
    });
  };

  // Containers: ~1 per 200 objects, alternating projects and spaces. The first three belong to
  // the guests: two containers the narrow viewer reaches through its team, one the rare viewer
  // is named on.
  const containerCount = clamp(Math.round(n / 200), 6, 1000);
  const narrowContainers: ContainerRef[] = [
    { type: 'jira:project', externalId: 'PRJ-NARROW' },
    { type: 'confluence:space', externalId: 'SPACE-NARROW' },
  ];
  const rareContainer: ContainerRef = { type: 'confluence:space', externalId: 'SPACE-RARE' };
  for (const ref of narrowContainers) add('container', { ...ref, permissions: permissions([[group(NARROW_TEAM), group(genericGroup())]]) });
  add('container', { ...rareContainer, permissions: permissions([people(RARE_USER)]) });
  const genericContainers: ContainerRef[] = [];
  for (let c = 3; c < containerCount; c++) {
    const ref: ContainerRef = c % 2 === 0 ? { type: 'jira:project', externalId: `PRJ-${pad(c, 4)}` } : { type: 'confluence:space', externalId: `SPACE-${pad(c, 4)}` };
    genericContainers.push(ref);
    add('container', { ...ref, permissions: permissions([rng.chance(0.6) ? [group(genericGroup()), group(genericGroup())] : people()]) });
  }
  const projects = genericContainers.filter((c) => c.type === 'jira:project');
  const spaces = genericContainers.filter((c) => c.type === 'confluence:space');

  // Every other object gets a role; the guests' objects and the near misses are drawn uniformly
  // from all positions so that they are spread through time like everything else.
  const rest = n - containerCount;
  const rareCount = Math.max(3, Math.round(n / 10_000)) - 1;
  const narrowCount = Math.max(10, Math.round(n / 100)) - narrowContainers.length;
  const nearRareCount = Math.max(2, Math.round(n / 10_000));
  const nearNarrowCount = Math.max(4, Math.round(n / 1000));
  const privateCount = Math.max(2, Math.round(n / 1000));
  const specialPositions = rng.sample(
    Array.from({ length: rest }, (_, i) => i),
    rareCount + narrowCount + nearRareCount + nearNarrowCount + privateCount,
  );
  const role = new Map<number, { kind: 'rare' | 'narrow' | 'near-rare' | 'near-narrow' | 'private'; ordinal: number }>();
  let offset = 0;
  for (const [kind, count] of [['rare', rareCount], ['narrow', narrowCount], ['near-rare', nearRareCount], ['near-narrow', nearNarrowCount], ['private', privateCount]] as const) {
    specialPositions.slice(offset, offset + count).forEach((index, ordinal) => role.set(index, { kind, ordinal }));
    offset += count;
  }

  /** A standalone object (own ACL): a work item or page filed in a container, or a document or message. */
  const standalone = (i: number, kind: string, viewControls: Principal[][]) => {
    const shape = rng.int(4);
    if (shape === 0) add(kind, { type: 'jira:work-item', externalId: `WI-${pad(i, 6)}`, container: rng.pick(projects), permissions: permissions(viewControls) });
    else if (shape === 1) add(kind, { type: 'confluence:page', externalId: `PAGE-${pad(i, 6)}`, container: rng.pick(spaces), permissions: permissions(viewControls) });
    else if (shape === 2) add(kind, { type: 'graph:document', externalId: `DOC-${pad(i, 6)}`, permissions: permissions(viewControls) });
    else add(kind, { type: 'graph:message', externalId: `MSG-${pad(i, 6)}`, permissions: permissions(viewControls) });
  };
  // Pages directly in a generic space that may themselves hold pages (container chains of two).
  const parentPages: ContainerRef[] = [];
  const child = (i: number, kind: string, container: ContainerRef, extra: Principal[][] = []) => {
    const type = childTypeOf(container);
    const externalId = `${type === 'jira:work-item' ? 'WI' : 'PAGE'}-${pad(i, 6)}`;
    add(kind, { type, externalId, container, permissions: permissions([[CONTAINER], ...extra]) });
    if (type === 'confluence:page' && container.type === 'confluence:space' && kind === 'container-child' && parentPages.length < 2000) {
      parentPages.push({ type, externalId });
    }
  };

  const rareShapes = ['USER', 'GROUP', 'CONTAINER', 'AND'] as const;
  for (let i = 0; i < rest; i++) {
    const special = role.get(i);
    if (special?.kind === 'rare') {
      const shape = rareShapes[special.ordinal % rareShapes.length];
      if (shape === 'USER') standalone(i, 'rare:user', [people(RARE_USER)]);
      else if (shape === 'GROUP') standalone(i, 'rare:nested-group', [[group(RARE_CIRCLE), group(genericGroup())]]);
      else if (shape === 'CONTAINER') child(i, 'rare:container', rareContainer);
      else child(i, 'rare:and', rareContainer, [[user(RARE_USER), user(WIDE_USER)]]);
    } else if (special?.kind === 'narrow') {
      const r = rng.next();
      const container = narrowContainers[special.ordinal % 2];
      if (r < 0.3) standalone(i, 'narrow:user', [people(NARROW_USER)]);
      else if (r < 0.6) standalone(i, 'narrow:nested-group', [[group(NARROW_DEPT), group(genericGroup())]]);
      else if (r < 0.7) standalone(i, 'narrow:group', [[group(NARROW_TEAM)]]);
      else if (r < 0.95) child(i, 'narrow:container', container);
      else if (r < 0.975) child(i, 'narrow:and', container, [[group(NARROW_DEPT)]]);
      else standalone(i, 'narrow:and', [people(NARROW_USER), [group(NARROW_TEAM)]]);
    } else if (special?.kind === 'near-rare') {
      standalone(i, 'near-miss', [[user(RARE_USER), user(WIDE_USER)], [group(rng.pick(teams))]]);
    } else if (special?.kind === 'near-narrow') {
      if (special.ordinal % 2 === 0) standalone(i, 'near-miss', [[group(NARROW_DEPT)], [group(rng.pick(teams))]]);
      else child(i, 'near-miss', narrowContainers[special.ordinal % 4 === 1 ? 0 : 1], [[group(rng.pick(teams))]]);
    } else if (special?.kind === 'private') {
      add('private', { type: 'graph:document', externalId: `DOC-${pad(i, 6)}`, permissions: permissions([[user(rng.pick(genericUsers))]]) });
    } else {
      const r = rng.next();
      if (r < 0.05) standalone(i, 'workspace', [[WORKSPACE]]);
      else if (r < 0.38) standalone(i, 'user', [people()]);
      else if (r < 0.68) standalone(i, 'group', [Array.from({ length: rng.between(1, 3) }, () => group(genericGroup()))]);
      else if (r < 0.97) {
        const nested = parentPages.length > 0 && rng.chance(0.1);
        child(i, nested ? 'container-child-nested' : 'container-child', nested ? rng.pick(parentPages) : rng.pick(genericContainers));
      } else if (r < 0.985) child(i, 'and', rng.pick(genericContainers), [[group(genericGroup())]]);
      else standalone(i, 'and', [[group(genericGroup())], [group(genericGroup()), ...people()]]);
    }
  }

  return { objectCount: n, seed, users, groups, viewers, fillerAccounts, objects, mix, expected: expectedVisibility(groups, viewers, objects) };
}

/** The viewer's principal keys in the model: linked user, the closure of its groups, the site. */
function modelPrincipals(groups: ExternalGroupInput[], viewer: ViewerSpec): Set<string> {
  const containing = new Map<string, string[]>();
  for (const g of groups) {
    for (const m of g.members) {
      const member = `${m.type}:${m.externalId}`;
      containing.set(member, [...(containing.get(member) ?? []), g.externalId]);
    }
  }
  const keys = new Set([userKey(MODEL_CONNECTION, viewer.externalUserId)]);
  const seen = new Set<string>();
  const queue = [...(containing.get(`USER:${viewer.externalUserId}`) ?? [])];
  while (queue.length > 0) {
    const g = queue.pop()!;
    if (seen.has(g)) continue;
    seen.add(g);
    keys.add(groupKey(MODEL_CONNECTION, g));
    queue.push(...(containing.get(`GROUP:${g}`) ?? []));
  }
  if (viewer.siteMember) keys.add(workspaceKey(MODEL_SITE));
  return keys;
}

function expectedVisibility(groups: ExternalGroupInput[], viewers: Record<ViewerName, ViewerSpec>, objects: ObjectInput[]): Record<ViewerName, Set<string>> {
  const keyOf = (type: string, externalId: string) => `${type}\u0000${externalId}`;
  const nodes = new Map<string, AclNode>();
  for (const o of objects) {
    nodes.set(keyOf(o.type, o.externalId), {
      acl: compileAcl(o.permissions, MODEL_CONNECTION, MODEL_SITE),
      containerId: o.container ? keyOf(o.container.type, o.container.externalId) : null,
    });
  }
  const facts = (id: string) => nodes.get(id);
  const result = {} as Record<ViewerName, Set<string>>;
  for (const name of VIEWERS) {
    const viewer = { active: true, keys: modelPrincipals(groups, viewers[name]) };
    result[name] = new Set(objects.filter((o) => isAllowed(viewer, facts, keyOf(o.type, o.externalId), 'VIEW')).map((o) => o.externalId));
  }
  return result;
}

export interface IngestionStats {
  objects: number;
  batches: number;
  seconds: number;
  objectsPerSecond: number;
  /** Per batch of 100, milliseconds. */
  batchMs: { p50: number; p95: number; p99: number };
  /** Throughput over the first and the last tenth of the batches (does it slow as tables grow?). */
  firstTenthPerSecond: number;
  lastTenthPerSecond: number;
}

export interface LoadedDataset {
  orgId: string;
  cloudId: string;
  connectionId: string;
  accounts: Record<ViewerName, string>;
  /** Seconds to create the tenant and the directory (users, groups, mappings). */
  directorySeconds: number;
  ingestion: IngestionStats;
}

/**
 * Creates the plan's tenant, directory and objects through the services. `afterBatch` runs after
 * each batch of objects, outside the timed part (the benchmark uses it to report progress and,
 * on request, to ANALYZE the way autovacuum would).
 */
export async function loadDataset(
  services: Services,
  plan: DatasetPlan,
  afterBatch?: (done: number, total: number) => Promise<void> | void,
): Promise<LoadedDataset> {
  const started = performance.now();
  const { orgs, sessions, directory } = services;
  const { orgId } = await orgs.createOrganization('Bench Org');
  const { cloudId } = await orgs.createSite(orgId, 'bench');
  const connection = await orgs.createConnection(cloudId, 'bench');
  const { accessToken } = await sessions.issue({ orgId, connectionId: connection.connectionId }, connection.clientId, [], 24 * 3600);
  const auth = await sessions.authenticate(accessToken);
  if (!auth.ok || auth.caller.kind !== 'connection') throw new Error('The bench connection could not authenticate.');
  const caller: ConnectionCaller = auth.caller;
  const connectionId = caller.connectionId;

  const accountIds = new Map<string, string>();
  for (const spec of [...Object.values(plan.viewers), ...plan.fillerAccounts]) {
    const { accountId } = await orgs.createAccount({ orgId, email: spec.email, displayName: spec.displayName, cloudIds: spec.siteMember ? [cloudId] : [] });
    accountIds.set(spec.externalUserId, accountId);
  }

  for (const batch of batches(plan.users)) expectAccepted(await directory.setUsers(caller, connectionId, batch), 'users');
  for (const batch of batches(plan.groups)) expectAccepted(await directory.setGroups(caller, connectionId, batch), 'groups');
  const mappings = [...accountIds].map(([externalId, accountId]) => ({ externalId, accountId, updateSequenceNumber: 1 }));
  for (const batch of batches(mappings)) expectAccepted(await directory.mapUsers(caller, connectionId, batch), 'mappings');
  const directorySeconds = (performance.now() - started) / 1000;

  const batchMs: number[] = [];
  const objectBatches = batches(plan.objects);
  for (const batch of objectBatches) {
    const t0 = performance.now();
    const payload = await services.objects.setObjects(caller, connectionId, batch);
    batchMs.push(performance.now() - t0);
    expectAccepted(payload, 'objects');
    await afterBatch?.(Math.min(batchMs.length * BATCH_SIZE, plan.objects.length), plan.objects.length);
  }
  const accounts = Object.fromEntries(VIEWERS.map((name) => [name, accountIds.get(plan.viewers[name].externalUserId)!])) as Record<ViewerName, string>;
  return { orgId, cloudId, connectionId, accounts, directorySeconds, ingestion: ingestionStats(batchMs, objectBatches.map((b) => b.length)) };
}

function ingestionStats(batchMs: number[], sizes: number[]): IngestionStats {
  const objects = sizes.reduce((a, b) => a + b, 0);
  const totalMs = batchMs.reduce((a, b) => a + b, 0);
  const tenth = Math.max(1, Math.floor(batchMs.length / 10));
  const rate = (from: number, to: number) => (sizes.slice(from, to).reduce((a, b) => a + b, 0) * 1000) / batchMs.slice(from, to).reduce((a, b) => a + b, 0);
  const sorted = [...batchMs].sort((a, b) => a - b);
  return {
    objects,
    batches: batchMs.length,
    seconds: totalMs / 1000,
    objectsPerSecond: (objects * 1000) / totalMs,
    batchMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) },
    firstTenthPerSecond: rate(0, tenth),
    lastTenthPerSecond: rate(batchMs.length - tenth, batchMs.length),
  };
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function batches<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) result.push(items.slice(i, i + BATCH_SIZE));
  return result;
}

function expectAccepted(payload: IngestionPayload, what: string) {
  if (payload.acceptedCount === payload.results.length) return;
  const problem = payload.results.find((r) => r.status !== 'ACCEPTED');
  throw new Error(`Ingesting ${what}: ${problem?.externalId} was ${problem?.status} (${problem?.code ?? ''} ${problem?.message ?? ''}).`);
}

/** Counts of a plan, for the command line and the benchmark's header. */
export function describePlan(plan: DatasetPlan) {
  const pct = (count: number) => `${((100 * count) / plan.objectCount).toFixed(count * 1000 < plan.objectCount ? 3 : 2)}%`;
  return {
    objects: plan.objects.length,
    users: plan.users.length,
    groups: plan.groups.length,
    accounts: VIEWERS.length + plan.fillerAccounts.length,
    containers: plan.mix.container ?? 0,
    mix: plan.mix,
    expectedVisible: Object.fromEntries(VIEWERS.map((name) => [name, `${plan.expected[name].size} (${pct(plan.expected[name].size)})`])),
  };
}

async function main() {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '100000' }, seed: { type: 'string' } }, strict: true });
  const plan = generateDataset({ objects: Number(values.objects), seed: values.seed === undefined ? undefined : Number(values.seed) });
  process.stdout.write(`${JSON.stringify(describePlan(plan), null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
