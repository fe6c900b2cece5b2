// The benchmark's dataset (issue 16): one organisation, one site, four connections (each with the
// same directory of third-party users in nested groups) and N objects with realistic ACLs
// (PRODUCT §2–3). Deterministic and streaming: object i is a pure function of (seed, i) drawn from
// its own seeded mulberry32, so a connection's objects can be generated batch by batch while it
// ingests, and nothing ever holds a million ObjectInputs. What the benchmark checks against is a
// compact model computed in one pass: per object its type, connection, lastUpdatedAt, whether its
// name or description holds the common or the rare word, and a bit per viewer saying whether the
// pure ACL engine (`isAllowed`, src/authz/acl-engine.ts) lets that viewer see it (about 12 bytes an
// object; the ACLs of containers are kept so the engine can walk CONTAINER chains).
//
// Five viewer accounts are the point of the exercise (PERFORMANCE.md: fast at both ends):
//   wide    a site member linked to a third-party user who is in every group and a collaborator
//           on every USER list: sees everything but the private drafts (~99.9%).
//   narrow  a guest reached by USER, a nested GROUP, two containers and a few ANDs: ~1%.
//   rare    a guest reached by ~0.01% of the objects.
//   old     a guest who sees an old project: a project named for its group, whose work items
//           inherit it (CONTAINER), and documents naming the viewer; ~2% of the objects, every one
//           of them among the oldest tenth by lastUpdatedAt (nothing near the top of a newest-first
//           list).
//   chain   a guest who sees ~10% of the objects only through CONTAINER chains five levels deep:
//           a few root spaces name the viewer's (nested) group, four levels of pages below each
//           root have exactly CONTAINER as their VIEW ACL (branching 3: 121 containers per root),
//           and the leaves (pages and attached documents, also exactly CONTAINER) hang below the
//           fourth level. Timestamps are spread over the year.
// Special objects sit at positions drawn uniformly from the whole set (except the old ones'
// timestamps), so they are spread through the newest-first order. A few "near misses" name the
// narrow or rare viewer in one control of an AND they do not satisfy, so the inverted index holds
// candidates the filter must reject.
//
// Connections: a container and everything inside it belong to one connection (relationships and
// container references stay within a connection, PRODUCT §2); objects without a container are
// dealt round-robin. Every connection carries the same directory and maps the same accounts, so a
// viewer's principals are the union over the four connections.
//
// `npx tsx bench/dataset.ts --objects 100000 [--seed N]` prints the counts and what each viewer sees.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type PermissionSpec, compileAcl, groupKey, userKey, workspaceKey } from '../src/authz/acl.ts';
import { type AclNode, isAllowed } from '../src/authz/acl-engine.ts';
import type { ExternalGroupInput, ExternalUserInput } from '../src/modules/directory/directory.service.ts';
import type { ObjectInput } from '../src/modules/object/object.service.ts';
import type { RelationshipInput } from '../src/modules/relationship/relationship.service.ts';

export const VIEWERS = ['wide', 'narrow', 'rare', 'old', 'chain'] as const;
export type ViewerName = (typeof VIEWERS)[number];
/** The share of objects each viewer is designed to see, for labels. */
export const VIEWER_TARGET: Record<ViewerName, string> = {
  wide: '~100%',
  narrow: '~1%',
  rare: '~0.01%',
  old: '~2%, oldest tenth',
  chain: '~10%, CONTAINER chains 5 deep',
};
/**
 * The `types` filter each viewer's filtered cases use, chosen for a sensible share of what the
 * viewer sees: work items are ~1/3 of the wide and narrow viewers' objects; the rare viewer's
 * objects are half pages; the old viewer's documents are its own-ACL objects (a quarter of them,
 * none inherited); the chain viewer's documents are a fifth of its leaves.
 */
export const TYPE_FILTER: Record<ViewerName, string> = {
  wide: 'jira:work-item',
  narrow: 'jira:work-item',
  rare: 'confluence:page',
  old: 'graph:document',
  chain: 'graph:document',
};
/** A word of the generator's vocabulary (about half of the objects hold it). */
export const COMMON_WORD = 'roadmap';
/** A token in ~0.01% of the objects' names or descriptions, and nowhere else. */
export const RARE_WORD = 'zephyrine';
const RARE_WORD_SHARE = 0.0001;

export const CONNECTIONS = 4;
export const BATCH_SIZE = 100;
export const RELATIONSHIP_TYPE = 'relates-to';
const DEFAULT_SEED = 20240601;
/** The dataset needs room for the chain tree and the special viewers' objects. */
export const MIN_OBJECTS = 5000;

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

/** A 32-bit seed for item `index` of stream `stream` of a dataset seed. */
function mixSeed(seed: number, stream: number, index: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h ^= Math.imul(index + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
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
  pick<T>(items: ArrayLike<T>): T {
    return items[this.int(items.length)];
  }
  /** k distinct items (k much smaller than the list), in random order, without copying the list. */
  sample<T>(items: readonly T[], k: number): T[] {
    const n = Math.min(k, items.length);
    if (n * 4 > items.length) {
      const copy = [...items];
      for (let i = 0; i < n; i++) {
        const j = i + this.int(copy.length - i);
        [copy[i], copy[j]] = [copy[j], copy[i]];
      }
      return copy.slice(0, n);
    }
    const chosen = new Set<number>();
    while (chosen.size < n) chosen.add(this.int(items.length));
    return [...chosen].map((i) => items[i]);
  }
}

export interface ViewerSpec {
  email: string;
  displayName: string;
  /** The third-party user linked to the account (in every connection). */
  externalUserId: string;
  /** Site members match ATLASSIAN_WORKSPACE. */
  siteMember: boolean;
}

// Placeholders for the connections and site in the reference model; the keys only need to agree
// with the viewers' keys built with the same placeholders.
const modelConnection = (c: number) => `model-connection-${c}`;
const MODEL_SITE = 'model-site';

const WIDE_USER = 'u-wide';
const NARROW_USER = 'u-narrow';
const RARE_USER = 'u-rare';
const OLD_USER = 'u-old';
const CHAIN_USER = 'u-chain';
const NARROW_TEAM = 'grp-narrow-team';
const NARROW_DEPT = 'grp-narrow-dept';
const RARE_TEAM = 'grp-rare-team';
const RARE_CIRCLE = 'grp-rare-circle';
const OLD_TEAM = 'grp-old-team';
const CHAIN_TEAM = 'grp-chain-team';
const CHAIN_DEPT = 'grp-chain-dept';

const YEAR_START = Date.UTC(2024, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** The old project's objects are updated within the year's first 8%: inside its oldest tenth. */
const OLD_SPAN_MS = Math.round(YEAR_MS * 0.08);
/** The decoy organisation's objects are all newer than the measured ones. */
const DECOY_START = Date.UTC(2025, 0, 1);
const WORDS = (
  'roadmap release backend frontend billing search onboarding latency quarterly design review migration incident ' +
  'payments mobile api schema audit security rollout metrics dashboard customer support pipeline cache index ' +
  'deploy staging retro planning hiring budget contract invoice analytics export import sync webhook alert'
).split(' ');

export const TYPES = ['jira:project', 'confluence:space', 'confluence:page', 'jira:work-item', 'graph:document', 'graph:message'] as const;
const PREFIX = ['PRJ', 'SPACE', 'PAGE', 'WI', 'DOC', 'MSG'];
const T = { project: 0, space: 1, page: 2, workItem: 3, document: 4, message: 5 } as const;
export const typeCode = (type: string) => TYPES.indexOf(type as (typeof TYPES)[number]);

const clamp = (value: number, min: number, max: number) => Math.max(min, Math.min(max, value));
const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** Every externalId ends in the object's index, so a page of the API maps back to the model. */
export const externalIdOf = (type: number, index: number) => `${PREFIX[type]}-${pad(index, 7)}`;
export const indexOfExternalId = (externalId: string) => Number(externalId.slice(externalId.lastIndexOf('-') + 1));

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

// Roles of the objects after the containers.
const ROLE = { generic: 0, rare: 1, narrow: 2, nearRare: 3, nearNarrow: 4, private: 5, oldChild: 6, oldOwn: 7, chainLeaf: 8 } as const;
// Kinds of containers (the first block of indexes).
const CK = { narrowProject: 0, narrowSpace: 1, rareSpace: 2, oldProject: 3, chainRoot: 4, chainPage: 5, genericProject: 6, genericSpace: 7, subPage: 8 } as const;
const CHAIN_BRANCHING = 3;
const CHAIN_PAGE_LEVELS = 4;

/** One generated object, with what the model needs beside the input. */
export interface Generated {
  input: ObjectInput;
  index: number;
  connection: number;
  /** Index of the container, or -1. */
  container: number;
  kind: string;
}

export interface DatasetOptions {
  objects: number;
  seed?: number;
  /** 'decoy': the skewed-statistics organisation (all workspace-visible messages, no containers, newer). */
  shape?: 'measured' | 'decoy';
  /** Distinguishes the accounts of several organisations in one database (emails are unique). */
  tag?: string;
}

/**
 * The plan of one organisation. Cheap to build (the directory and the layout of containers and
 * special positions); objects are generated on demand; `buildModel` computes the model.
 */
export class Dataset {
  readonly n: number;
  readonly seed: number;
  readonly shape: 'measured' | 'decoy';
  readonly tag: string;
  readonly users: ExternalUserInput[];
  readonly groups: ExternalGroupInput[];
  readonly viewers: Record<ViewerName, ViewerSpec>;
  /** Other accounts linked to third-party users, as a real organisation has. */
  readonly fillerAccounts: ViewerSpec[];
  private readonly genericUsers: string[];
  private readonly teams: string[];
  private readonly departments: string[];
  private readonly divisions: string[];
  /** Containers are indexes [0, containerCount). */
  readonly containerCount: number;
  private readonly containerKind: Uint8Array;
  private readonly containerParent: Int32Array;
  private readonly containerConnection: Uint8Array;
  private readonly projects: Int32Array;
  private readonly spaces: Int32Array;
  private readonly genericContainers: Int32Array;
  private readonly subPages: Int32Array;
  private readonly chainLeafContainers: Int32Array;
  readonly chainRoots: number;
  private readonly role: Uint8Array;
  private readonly ordinal: Int32Array;
  /** Filled by buildModel. */
  model: Model | null = null;

  constructor(options: DatasetOptions) {
    const n = options.objects;
    if (!Number.isInteger(n) || n < MIN_OBJECTS) throw new Error(`--objects must be an integer of at least ${MIN_OBJECTS}, got ${n}.`);
    this.n = n;
    this.seed = options.seed ?? DEFAULT_SEED;
    this.shape = options.shape ?? 'measured';
    this.tag = options.tag ?? 'org';
    const rng = new Random(mixSeed(this.seed, 0, 0));

    // The directory scales with the graph: ~5,000 users and ~250 groups at 100,000 objects.
    const userCount = clamp(Math.round(n / 20), 60, 5000);
    this.genericUsers = Array.from({ length: userCount }, (_, i) => `u-${pad(i + 1, 5)}`);
    this.users = [WIDE_USER, NARROW_USER, RARE_USER, OLD_USER, CHAIN_USER, ...this.genericUsers].map((externalId) => ({
      externalId,
      displayName: `User ${externalId}`,
      email: `${externalId}@bench.teamgraph.test`,
      updateSequenceNumber: 1,
    }));
    // Generic groups in three levels (team ⊂ department ⊂ division) with one membership cycle
    // between two divisions. The wide viewer's user is in every team, so in every group.
    const teamCount = clamp(Math.round(n / 500), 10, 400);
    this.teams = Array.from({ length: teamCount }, (_, i) => `grp-team-${pad(i + 1, 3)}`);
    this.departments = Array.from({ length: Math.ceil(teamCount / 5) }, (_, i) => `grp-dept-${pad(i + 1, 3)}`);
    this.divisions = Array.from({ length: Math.ceil(this.departments.length / 10) }, (_, i) => `grp-div-${i + 1}`);
    this.groups = [];
    const addGroup = (externalId: string, members: ExternalGroupInput['members']) =>
      this.groups.push({ externalId, displayName: externalId.replace(/^grp-/, '').replace(/-/g, ' '), members, updateSequenceNumber: 1 });
    const generic = this.genericUsers;
    for (const team of this.teams) addGroup(team, [userMember(WIDE_USER), ...rng.sample(generic, rng.between(8, 40)).map(userMember)]);
    this.departments.forEach((dept, d) => {
      addGroup(dept, [...this.teams.slice(d * 5, d * 5 + 5).map(groupMember), ...rng.sample(generic, rng.between(0, 3)).map(userMember)]);
    });
    this.divisions.forEach((division, v) => {
      const last = this.divisions.length - 1;
      const cycle = this.divisions.length > 1 && (v === 0 || v === last) ? [groupMember(this.divisions[v === 0 ? last : 0])] : [];
      addGroup(division, [...this.departments.slice(v * 10, v * 10 + 10).map(groupMember), ...cycle]);
    });
    // The guests' groups contain generic groups (downwards), but no generic group contains them.
    addGroup(NARROW_TEAM, [userMember(NARROW_USER), userMember(WIDE_USER), ...rng.sample(generic, 10).map(userMember)]);
    addGroup(NARROW_DEPT, [groupMember(NARROW_TEAM), groupMember(rng.pick(this.teams)), ...rng.sample(generic, 3).map(userMember)]);
    addGroup(RARE_TEAM, [userMember(RARE_USER), userMember(WIDE_USER), ...rng.sample(generic, 2).map(userMember)]);
    addGroup(RARE_CIRCLE, [groupMember(RARE_TEAM), ...rng.sample(generic, 2).map(userMember)]);
    addGroup(OLD_TEAM, [userMember(OLD_USER), userMember(WIDE_USER), ...rng.sample(generic, 6).map(userMember)]);
    addGroup(CHAIN_TEAM, [userMember(CHAIN_USER), userMember(WIDE_USER), ...rng.sample(generic, 12).map(userMember)]);
    addGroup(CHAIN_DEPT, [groupMember(CHAIN_TEAM), ...rng.sample(generic, 4).map(userMember)]);

    const spec = (name: string, externalUserId: string, siteMember: boolean): ViewerSpec => ({
      email: `${this.tag}-${name}@bench.teamgraph.test`,
      displayName: `${name.charAt(0).toUpperCase()}${name.slice(1)} Viewer`,
      externalUserId,
      siteMember,
    });
    this.viewers = {
      wide: spec('wide', WIDE_USER, true),
      narrow: spec('narrow', NARROW_USER, false),
      rare: spec('rare', RARE_USER, false),
      old: spec('old', OLD_USER, false),
      chain: spec('chain', CHAIN_USER, false),
    };
    this.fillerAccounts = this.genericUsers.slice(0, 50).map((externalId) => ({
      email: `${this.tag}-${externalId}@bench.teamgraph.test`,
      displayName: `Account ${externalId}`,
      externalUserId: externalId,
      siteMember: true,
    }));

    // The containers' block: the guests' containers, the old project, the chain trees (breadth
    // first, so a parent always comes before its children), the generic projects and spaces, and
    // pages inside generic spaces that hold pages themselves (chains of two).
    const kinds: number[] = [];
    const parents: number[] = [];
    const connections: number[] = [];
    const addContainer = (kind: number, parent: number, connection: number) => {
      kinds.push(kind);
      parents.push(parent);
      connections.push(connection);
      return kinds.length - 1;
    };
    const leaves: number[] = [];
    let chainRoots = 0;
    if (this.shape === 'measured') {
      addContainer(CK.narrowProject, -1, 0);
      addContainer(CK.narrowSpace, -1, 1);
      addContainer(CK.rareSpace, -1, 2);
      addContainer(CK.oldProject, -1, 3);
      chainRoots = clamp(Math.round(n / 25_000), 1, 4);
      let level = Array.from({ length: chainRoots }, (_, r) => addContainer(CK.chainRoot, -1, (r + 1) % CONNECTIONS));
      for (let depth = 1; depth <= CHAIN_PAGE_LEVELS; depth++) {
        level = level.flatMap((parent) => Array.from({ length: CHAIN_BRANCHING }, () => addContainer(CK.chainPage, parent, connections[parent])));
      }
      leaves.push(...level);
      const genericCount = clamp(Math.round(n / 200), 6, 1000);
      const genericSpaces: number[] = [];
      for (let c = 0; c < genericCount; c++) {
        const index = addContainer(c % 2 === 0 ? CK.genericProject : CK.genericSpace, -1, c % CONNECTIONS);
        if (c % 2 === 1) genericSpaces.push(index);
      }
      const subPageCount = clamp(Math.round(n / 1000), 2, 1000);
      for (let p = 0; p < subPageCount; p++) {
        const space = rng.pick(genericSpaces);
        addContainer(CK.subPage, space, connections[space]);
      }
    }
    this.chainRoots = chainRoots;
    this.containerCount = kinds.length;
    this.containerKind = Uint8Array.from(kinds);
    this.containerParent = Int32Array.from(parents);
    this.containerConnection = Uint8Array.from(connections);
    const indexesOf = (...wanted: number[]) => Int32Array.from(kinds.flatMap((kind, i) => (wanted.includes(kind) ? [i] : [])));
    this.projects = indexesOf(CK.genericProject);
    this.spaces = indexesOf(CK.genericSpace);
    this.genericContainers = indexesOf(CK.genericProject, CK.genericSpace);
    this.subPages = indexesOf(CK.subPage);
    this.chainLeafContainers = Int32Array.from(leaves);

    // Special positions among the rest, drawn uniformly (a partial Fisher–Yates over the indexes).
    this.role = new Uint8Array(n);
    this.ordinal = new Int32Array(n);
    if (this.shape === 'measured') {
      const rest = n - this.containerCount;
      const counts: [number, number][] = [
        [ROLE.rare, Math.max(3, Math.round(n / 10_000)) - 1],
        [ROLE.narrow, Math.max(10, Math.round(n / 100)) - 2],
        [ROLE.nearRare, Math.max(2, Math.round(n / 10_000))],
        [ROLE.nearNarrow, Math.max(4, Math.round(n / 1000))],
        [ROLE.private, Math.max(2, Math.round(n / 1000))],
        [ROLE.oldChild, Math.round(n * 0.015)],
        [ROLE.oldOwn, Math.round(n * 0.005) - 1],
        [ROLE.chainLeaf, Math.round(n * 0.1) - (this.containerCount - 4 - this.projects.length - this.spaces.length - this.subPages.length)],
      ];
      const special = counts.reduce((sum, [, count]) => sum + count, 0);
      if (special > rest) throw new Error(`${n} objects leave no room for the dataset's shape; use at least ${MIN_OBJECTS}.`);
      const positions = new Int32Array(rest);
      for (let i = 0; i < rest; i++) positions[i] = i;
      let k = 0;
      for (const [role, count] of counts) {
        for (let o = 0; o < count; o++, k++) {
          const j = k + rng.int(rest - k);
          const chosen = positions[j];
          positions[j] = positions[k];
          positions[k] = chosen;
          this.role[this.containerCount + chosen] = role;
          this.ordinal[this.containerCount + chosen] = o;
        }
      }
    }
  }

  /** The connection (0..3) object `index` belongs to, without generating it. */
  connectionOf(index: number): number {
    if (this.shape === 'decoy') return index % CONNECTIONS;
    return this.model ? this.model.connection[index] : this.generate(index, false).connection;
  }

  /** Object `index`, a pure function of (seed, index). Without text, the strings are left empty. */
  generate(index: number, withText = true): Generated {
    const rng = new Random(mixSeed(this.seed, 1, index));
    let kind = '';
    let type: number = T.message;
    let container = -1;
    let connection = index % CONNECTIONS;
    let controls: Principal[][] = [[WORKSPACE]];
    let old = false;
    const genericGroup = () => (rng.chance(0.7) ? rng.pick(this.teams) : rng.chance(0.85) ? rng.pick(this.departments) : rng.pick(this.divisions));
    // Lists of users always include the wide viewer (think: the owner of every project).
    const people = (...named: string[]) => [...named, WIDE_USER, ...rng.sample(this.genericUsers, rng.between(1, 4))].map(user);
    const inContainer = (c: number) => {
      container = c;
      connection = this.containerConnection[c];
    };
    /** Own ACL: a work item or page filed in a container, or a document or message. */
    const standalone = (k: string, view: Principal[][]) => {
      kind = k;
      controls = view;
      const shape = rng.int(4);
      if (shape === 0) {
        type = T.workItem;
        inContainer(rng.pick(this.projects));
      } else if (shape === 1) {
        type = T.page;
        inContainer(rng.pick(this.spaces));
      } else type = shape === 2 ? T.document : T.message;
    };
    /** Inherits (CONTAINER), plus any extra controls. */
    const child = (k: string, c: number, extra: Principal[][] = []) => {
      kind = k;
      const ck = this.containerKind[c];
      type = ck === CK.narrowProject || ck === CK.oldProject || ck === CK.genericProject ? T.workItem : T.page;
      inContainer(c);
      controls = [[CONTAINER], ...extra];
    };

    if (this.shape === 'decoy') {
      kind = 'decoy:workspace';
    } else if (index < this.containerCount) {
      const ck = this.containerKind[index];
      connection = this.containerConnection[index];
      kind = 'container';
      if (ck === CK.narrowProject || ck === CK.narrowSpace) {
        type = ck === CK.narrowProject ? T.project : T.space;
        controls = [[group(NARROW_TEAM), group(genericGroup())]];
      } else if (ck === CK.rareSpace) {
        type = T.space;
        controls = [people(RARE_USER)];
      } else if (ck === CK.oldProject) {
        type = T.project;
        controls = [[group(OLD_TEAM)]];
        old = true;
        kind = 'old:project';
      } else if (ck === CK.chainRoot) {
        type = T.space;
        controls = [[group(CHAIN_DEPT)]];
        kind = 'chain:root';
      } else if (ck === CK.chainPage || ck === CK.subPage) {
        type = T.page;
        container = this.containerParent[index];
        controls = [[CONTAINER]];
        kind = ck === CK.chainPage ? 'chain:page' : 'container:page';
      } else {
        type = ck === CK.genericProject ? T.project : T.space;
        controls = [rng.chance(0.6) ? [group(genericGroup()), group(genericGroup())] : people()];
      }
    } else {
      const role = this.role[index];
      const ordinal = this.ordinal[index];
      if (role === ROLE.rare) {
        const shape = ordinal % 4;
        if (shape === 0) standalone('rare:user', [people(RARE_USER)]);
        else if (shape === 1) standalone('rare:nested-group', [[group(RARE_CIRCLE), group(genericGroup())]]);
        else if (shape === 2) child('rare:container', 2);
        else child('rare:and', 2, [[user(RARE_USER), user(WIDE_USER)]]);
      } else if (role === ROLE.narrow) {
        const r = rng.next();
        const c = ordinal % 2;
        if (r < 0.3) standalone('narrow:user', [people(NARROW_USER)]);
        else if (r < 0.6) standalone('narrow:nested-group', [[group(NARROW_DEPT), group(genericGroup())]]);
        else if (r < 0.7) standalone('narrow:group', [[group(NARROW_TEAM)]]);
        else if (r < 0.95) child('narrow:container', c);
        else if (r < 0.975) child('narrow:and', c, [[group(NARROW_DEPT)]]);
        else standalone('narrow:and', [people(NARROW_USER), [group(NARROW_TEAM)]]);
      } else if (role === ROLE.nearRare) {
        standalone('near-miss', [[user(RARE_USER), user(WIDE_USER)], [group(rng.pick(this.teams))]]);
      } else if (role === ROLE.nearNarrow) {
        if (ordinal % 2 === 0) standalone('near-miss', [[group(NARROW_DEPT)], [group(rng.pick(this.teams))]]);
        else child('near-miss', ordinal % 4 === 1 ? 0 : 1, [[group(rng.pick(this.teams))]]);
      } else if (role === ROLE.private) {
        kind = 'private';
        type = T.document;
        controls = [[user(rng.pick(this.genericUsers))]];
      } else if (role === ROLE.oldChild) {
        child('old:container', 3);
        old = true;
      } else if (role === ROLE.oldOwn) {
        kind = 'old:own';
        type = T.document;
        controls = rng.chance(0.5) ? [people(OLD_USER)] : [[group(OLD_TEAM), group(genericGroup())]];
        old = true;
      } else if (role === ROLE.chainLeaf) {
        child('chain:leaf', rng.pick(this.chainLeafContainers));
        if (rng.chance(0.2)) type = T.document;
      } else {
        const r = rng.next();
        if (r < 0.05) standalone('workspace', [[WORKSPACE]]);
        else if (r < 0.38) standalone('user', [people()]);
        else if (r < 0.68) standalone('group', [Array.from({ length: rng.between(1, 3) }, () => group(genericGroup()))]);
        else if (r < 0.97) {
          const nested = rng.chance(0.1);
          child(nested ? 'container-child-nested' : 'container-child', nested ? rng.pick(this.subPages) : rng.pick(this.genericContainers));
        } else if (r < 0.985) child('and', rng.pick(this.genericContainers), [[group(genericGroup())]]);
        else standalone('and', [[group(genericGroup())], [group(genericGroup()), ...people()]]);
      }
    }

    const lastUpdatedAt = new Date(this.shape === 'decoy' ? DECOY_START + rng.int(YEAR_MS / 2) : old ? YEAR_START + rng.int(OLD_SPAN_MS) : YEAR_START + rng.int(YEAR_MS));
    const createdAt = new Date(lastUpdatedAt.getTime() - rng.int(60 * 24 * 3600 * 1000));
    let displayName = '';
    let description = '';
    if (withText) {
      const text = (min: number, max: number) => Array.from({ length: rng.between(min, max) }, () => rng.pick(WORDS));
      const title = text(3, 8);
      const body = text(10, 45);
      if (rng.chance(RARE_WORD_SHARE)) (rng.chance(0.5) ? title : body).splice(rng.int(3), 0, RARE_WORD);
      const joined = title.join(' ');
      displayName = joined.charAt(0).toUpperCase() + joined.slice(1);
      description = body.join(' ');
    }
    const typeName = TYPES[type];
    const input: ObjectInput = {
      type: typeName,
      externalId: externalIdOf(type, index),
      displayName,
      description,
      url: `https://bench.example/${typeName.replace(':', '/')}/${index}`,
      container: container >= 0 ? { type: TYPES[this.typeOfContainer(container)], externalId: externalIdOf(this.typeOfContainer(container), container) } : null,
      properties: { status: rng.pick(['To Do', 'In Progress', 'In Review', 'Done']), priority: rng.between(1, 5) },
      createdAt,
      lastUpdatedAt,
      updateSequenceNumber: 1,
      permissions: permissions(controls),
    };
    return { input, index, connection, container, kind };
  }

  private typeOfContainer(index: number): number {
    const ck = this.containerKind[index];
    return ck === CK.narrowProject || ck === CK.oldProject || ck === CK.genericProject ? T.project : ck === CK.narrowSpace || ck === CK.rareSpace || ck === CK.chainRoot || ck === CK.genericSpace ? T.space : T.page;
  }

  /** The objects of one connection in index order (containers before their children), in batches. */
  *batchesOf(connection: number): Generator<ObjectInput[]> {
    let batch: ObjectInput[] = [];
    for (let i = 0; i < this.n; i++) {
      if (this.connectionOf(i) !== connection) continue;
      batch.push(this.generate(i).input);
      if (batch.length === BATCH_SIZE) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * The model, in one pass over the objects (containers first, so the engine finds every
   * container's facts already kept). `onProgress` hears every 100,000 objects.
   */
  buildModel(onProgress?: (done: number) => void): Model {
    const n = this.n;
    const model = new Model(this, n);
    const containers = new Map<string, AclNode>();
    const viewerKeys = VIEWERS.map((name) => ({ active: true, keys: modelPrincipals(this.groups, this.viewers[name]) }));
    const lower = (s: string | null | undefined) => (s ?? '').toLowerCase();
    for (let i = 0; i < n; i++) {
      const g = this.generate(i);
      const o = g.input;
      model.type[i] = typeCode(o.type);
      model.connection[i] = g.connection;
      model.lastUpdatedAt[i] = o.lastUpdatedAt!.getTime();
      const name = lower(o.displayName);
      const description = lower(o.description);
      model.words[i] = (name.includes(COMMON_WORD) || description.includes(COMMON_WORD) ? WORD.common : 0) | (name.includes(RARE_WORD) || description.includes(RARE_WORD) ? WORD.rare : 0);
      model.mix[g.kind] = (model.mix[g.kind] ?? 0) + 1;
      if (this.shape === 'decoy') continue;
      const id = String(i);
      const node: AclNode = { acl: compileAcl(o.permissions, modelConnection(g.connection), MODEL_SITE), containerId: g.container >= 0 ? String(g.container) : null };
      if (i < this.containerCount) containers.set(id, node);
      const facts = (objectId: string) => (objectId === id ? node : containers.get(objectId));
      let bits = 0;
      viewerKeys.forEach((viewer, v) => {
        if (isAllowed(viewer, facts, id, 'VIEW')) bits |= 1 << v;
      });
      model.visible[i] = bits;
      if (onProgress && (i + 1) % 100_000 === 0) onProgress(i + 1);
    }
    this.model = model;
    return model;
  }

  /**
   * Relationships, per connection, generated from the model: every 20th work item links to one to
   * three objects of its connection; one hub work item (not otherwise linked) has `hubLinks`
   * edges, 60% outgoing and 40% incoming, to distinct objects of its connection.
   */
  relationshipPlan(hubLinks = 400): RelationshipPlan {
    const model = this.model;
    if (!model) throw new Error('buildModel first.');
    const n = this.n;
    let hub = -1;
    for (let i = this.containerCount; i < n && hub < 0; i++) if (model.type[i] === T.workItem && this.role[i] === ROLE.generic && i % 20 !== 0) hub = i;
    const rng = new Random(mixSeed(this.seed, 2, 0));
    const sameConnection = (r: Random, of: number, avoid: (j: number) => boolean) => {
      for (let attempt = 0; attempt < 50; attempt++) {
        const j = r.int(n);
        if (model.connection[j] === model.connection[of] && j !== of && !avoid(j)) return j;
      }
      return -1;
    };
    const neighbours = new Set<number>();
    const hubEdges: { from: number; to: number }[] = [];
    for (let k = 0; k < hubLinks; k++) {
      const j = sameConnection(rng, hub, (x) => neighbours.has(x));
      if (j < 0) continue;
      neighbours.add(j);
      hubEdges.push(k < hubLinks * 0.6 ? { from: hub, to: j } : { from: j, to: hub });
    }
    const ref = (i: number) => ({ type: TYPES[model.type[i]], externalId: externalIdOf(model.type[i], i) });
    const edge = (from: number, to: number): RelationshipInput => ({ type: RELATIONSHIP_TYPE, from: ref(from), to: ref(to), updateSequenceNumber: 1 });
    const self = this;
    let count = hubEdges.length;
    for (let i = 0; i < n; i += 20) if (model.type[i] === T.workItem && i !== hub) count += 2; // estimate, for progress
    return {
      hub,
      hubRef: ref(hub),
      hubConnection: model.connection[hub],
      hubNeighbours: Int32Array.from(neighbours),
      estimatedCount: count,
      *batchesOf(connection: number): Generator<RelationshipInput[]> {
        let batch: RelationshipInput[] = [];
        const push = function* (item: RelationshipInput) {
          batch.push(item);
          if (batch.length === BATCH_SIZE) {
            yield batch;
            batch = [];
          }
        };
        if (model.connection[hub] === connection) for (const e of hubEdges) yield* push(edge(e.from, e.to));
        for (let i = 0; i < n; i += 20) {
          if (model.type[i] !== T.workItem || i === hub || model.connection[i] !== connection) continue;
          const r = new Random(mixSeed(self.seed, 3, i));
          const links = r.between(1, 3);
          for (let l = 0; l < links; l++) {
            const j = sameConnection(r, i, (x) => x === hub);
            if (j >= 0) yield* push(edge(i, j));
          }
        }
        if (batch.length > 0) yield batch;
      },
    };
  }
}

export interface RelationshipPlan {
  hub: number;
  hubRef: { type: string; externalId: string };
  hubConnection: number;
  hubNeighbours: Int32Array;
  estimatedCount: number;
  batchesOf(connection: number): Generator<RelationshipInput[]>;
}

export const WORD = { common: 1, rare: 2 } as const;

export interface ModelFilter {
  /** A type code (see TYPES). */
  type?: number;
  /** A WORD bit. */
  word?: number;
}

/** What the benchmark checks the API against: per object, a few bytes. */
export class Model {
  readonly type: Uint8Array;
  readonly connection: Uint8Array;
  readonly lastUpdatedAt: Float64Array;
  readonly words: Uint8Array;
  /** Bit v: VIEWERS[v] may see the object. */
  readonly visible: Uint8Array;
  readonly mix: Record<string, number> = {};

  constructor(
    readonly dataset: Dataset,
    readonly n: number,
  ) {
    this.type = new Uint8Array(n);
    this.connection = new Uint8Array(n);
    this.lastUpdatedAt = new Float64Array(n);
    this.words = new Uint8Array(n);
    this.visible = new Uint8Array(n);
  }

  matches(viewer: ViewerName, filter: ModelFilter, i: number): boolean {
    return (this.visible[i] & (1 << VIEWERS.indexOf(viewer))) !== 0 && (filter.type === undefined || this.type[i] === filter.type) && (filter.word === undefined || (this.words[i] & filter.word) !== 0);
  }

  count(viewer: ViewerName, filter: ModelFilter = {}): number {
    let count = 0;
    for (let i = 0; i < this.n; i++) if (this.matches(viewer, filter, i)) count++;
    return count;
  }

  /**
   * The timestamps of ranks [0, limit) of the viewer's matching objects, newest first (the
   * order of the API up to ties, which server ids break), and how many match in all.
   */
  newest(viewer: ViewerName, filter: ModelFilter, limit: number): { times: number[]; total: number } {
    const top: number[] = [];
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      if (!this.matches(viewer, filter, i)) continue;
      total++;
      const t = this.lastUpdatedAt[i];
      if (top.length === limit && t <= top[limit - 1]) continue;
      let k = top.length === limit ? limit - 1 : top.length;
      top[k] = t;
      while (k > 0 && top[k - 1] < t) {
        top[k] = top[k - 1];
        top[k - 1] = t;
        k--;
      }
    }
    return { times: top, total };
  }

  /** The index of the viewer's newest visible object, or -1. */
  newestIndex(viewer: ViewerName): number {
    let best = -1;
    for (let i = 0; i < this.n; i++) if (this.matches(viewer, {}, i) && (best < 0 || this.lastUpdatedAt[i] > this.lastUpdatedAt[best])) best = i;
    return best;
  }

  /** Where the viewer's newest visible object ranks among all objects, newest first (0 = newest). */
  newestRank(viewer: ViewerName): number {
    const newest = this.newest(viewer, {}, 1).times[0];
    let rank = 0;
    for (let i = 0; i < this.n; i++) if (this.lastUpdatedAt[i] > newest) rank++;
    return rank;
  }
}

/** The viewer's principal keys in the model: linked users, the closure of their groups, the site. */
function modelPrincipals(groups: ExternalGroupInput[], viewer: ViewerSpec): Set<string> {
  const containing = new Map<string, string[]>();
  for (const g of groups) {
    for (const m of g.members) {
      const member = `${m.type}:${m.externalId}`;
      containing.set(member, [...(containing.get(member) ?? []), g.externalId]);
    }
  }
  const closure = new Set<string>();
  const queue = [...(containing.get(`USER:${viewer.externalUserId}`) ?? [])];
  while (queue.length > 0) {
    const g = queue.pop()!;
    if (closure.has(g)) continue;
    closure.add(g);
    queue.push(...(containing.get(`GROUP:${g}`) ?? []));
  }
  const keys = new Set<string>();
  for (let c = 0; c < CONNECTIONS; c++) {
    keys.add(userKey(modelConnection(c), viewer.externalUserId));
    for (const g of closure) keys.add(groupKey(modelConnection(c), g));
  }
  if (viewer.siteMember) keys.add(workspaceKey(MODEL_SITE));
  return keys;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Counts of a dataset with its model, for the command line and the benchmark's header. */
export function describeDataset(dataset: Dataset) {
  const model = dataset.model;
  const pct = (count: number) => `${((100 * count) / dataset.n).toFixed(count * 1000 < dataset.n ? 3 : 2)}%`;
  return {
    objects: dataset.n,
    seed: dataset.seed,
    users: dataset.users.length,
    groups: dataset.groups.length,
    accounts: VIEWERS.length + dataset.fillerAccounts.length,
    containers: dataset.containerCount,
    chainRoots: dataset.chainRoots,
    mix: model?.mix,
    expectedVisible: model && dataset.shape === 'measured' ? Object.fromEntries(VIEWERS.map((name) => [name, `${model.count(name)} (${pct(model.count(name))})`])) : undefined,
  };
}

async function main() {
  const { values } = parseArgs({ options: { objects: { type: 'string', default: '100000' }, seed: { type: 'string' } }, strict: true });
  const dataset = new Dataset({ objects: Number(values.objects), seed: values.seed === undefined ? undefined : Number(values.seed) });
  const t0 = performance.now();
  const model = dataset.buildModel();
  const description = describeDataset(dataset);
  const oldRanks = { newestVisibleRank: model.newestRank('old'), oldestTenthStartsAt: Math.floor(dataset.n * 0.9) };
  const words = { [COMMON_WORD]: model.count('wide', { word: WORD.common }), [RARE_WORD]: model.count('wide', { word: WORD.rare }) };
  const types = Object.fromEntries(VIEWERS.map((v) => [v, `${TYPE_FILTER[v]}: ${model.count(v, { type: typeCode(TYPE_FILTER[v]) })}`]));
  process.stdout.write(`${JSON.stringify({ ...description, oldViewer: oldRanks, wideWords: words, typeFilters: types, modelSeconds: ((performance.now() - t0) / 1000).toFixed(1), heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20) }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
