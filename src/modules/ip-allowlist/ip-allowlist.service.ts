// IP and location allowlists (PRODUCT §7): the admin's saves (validated, versioned, never
// locking out the admin saving), and the decision for a request's client address. The decision
// uses the allowlist the request read with its session, so a save applies to the next request on
// every instance; compiled matchers are kept per (organisation, version), which cannot go stale.
import type { ActionAuthor } from '../audit/audit-event.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { Clock } from '../../shared/clock.ts';
import { BadUserInputError, ConflictError } from '../../shared/errors.ts';
import { type CountryLookup, loadCountryDatabase } from './country-lookup.ts';
import { compileAllowlist, isCountryCode, parseCidr } from './ip-allowlist-rules.ts';
import { IpAllowlistRepository } from './ip-allowlist.repository.ts';
import type { IpAllowlistTable } from './ip-allowlist.table.ts';

export const MAX_RULES = 1000;

export interface IpRule {
  cidr: string;
  description: string | null;
}

/** What a request needs of an enabled allowlist; null when the organisation has none enabled. */
export interface AllowlistSnapshot {
  version: number;
  rules: IpRule[];
  locations: string[];
}

export interface IpAllowlistState {
  enabled: boolean;
  rules: IpRule[];
  locations: string[];
  version: number;
  updatedAt: Date | null;
}

export interface UpdateIpAllowlistInput {
  enabled: boolean;
  rules: { cidr: string; description?: string | null }[];
  locations?: string[] | null;
  expectedVersion?: number | null;
}

export class IpAllowlistService {
  private readonly compiled = new Map<string, { version: number; allows: (address: string) => boolean }>();
  private countryDatabase?: CountryLookup;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    countries?: CountryLookup,
  ) {
    this.countryDatabase = countries;
  }

  private get countries(): CountryLookup {
    return (this.countryDatabase ??= loadCountryDatabase());
  }

  /** The country of an address by the database location rules use (loaded on first use); null when it has none. */
  countryOf(address: string): string | null {
    return this.countries.country(address);
  }

  async get(orgId: string): Promise<IpAllowlistState> {
    return stateOf(await new IpAllowlistRepository(this.db).find(orgId));
  }

  /** Whether a client address may make requests for the organisation under this snapshot. An unknown address may not. */
  allows(orgId: string, allowlist: AllowlistSnapshot | null, address: string | undefined): boolean {
    if (!allowlist) return true;
    if (!address) return false;
    let entry = this.compiled.get(orgId);
    if (!entry || entry.version !== allowlist.version) {
      entry = { version: allowlist.version, allows: compileAllowlist(allowlist, this.countries) };
      this.compiled.set(orgId, entry);
    }
    return entry.allows(address);
  }

  /** For requests that have no session yet (sign-in, token endpoint): reads the allowlist now. */
  async addressAllowed(orgId: string, address: string | undefined): Promise<boolean> {
    const state = await this.get(orgId);
    return this.allows(orgId, state.enabled ? state : null, address);
  }

  /**
   * Saves a new allowlist. `adminAddress` is where the saving admin is: a list that would refuse
   * it is refused (WOULD_LOCK_OUT), as is a stale expectedVersion (CONFLICT).
   */
  async update(by: ActionAuthor, orgId: string, accountId: string, input: UpdateIpAllowlistInput, adminAddress: string | undefined): Promise<IpAllowlistState> {
    if (input.rules.length > MAX_RULES) throw new BadUserInputError('TOO_MANY_RULES', `An allowlist holds at most ${MAX_RULES} rules, got ${input.rules.length}.`);
    const rules = input.rules.map((rule) => {
      const parsed = parseCidr(rule.cidr);
      if (!parsed) throw new BadUserInputError('INVALID_CIDR', `"${rule.cidr.slice(0, 60)}" is not an IPv4 or IPv6 address or CIDR range with no host bits set (e.g. 203.0.113.0/24).`);
      const description = rule.description?.trim() || null;
      if (description && description.length > 255) throw new BadUserInputError('INVALID_DESCRIPTION', `The description of ${parsed.cidr} is longer than 255 characters.`);
      return { cidr: parsed.cidr, description };
    });
    const locations = [...new Set((input.locations ?? []).map((code) => code.trim().toUpperCase()))];
    const badLocation = locations.find((code) => !isCountryCode(code));
    if (badLocation !== undefined) throw new BadUserInputError('INVALID_LOCATION', `"${badLocation.slice(0, 20)}" is not an ISO 3166-1 alpha-2 country code such as DE or US.`);
    if (input.enabled) {
      const allows = compileAllowlist({ rules, locations }, this.countries);
      if (!adminAddress || !allows(adminAddress)) {
        throw new BadUserInputError('WOULD_LOCK_OUT', `This allowlist would refuse the address you are saving from (${adminAddress ?? 'unknown'}); add a rule for it first.`);
      }
    }
    return this.db.transaction().execute(async (trx) => {
      const repository = new IpAllowlistRepository(trx);
      const before = stateOf(await repository.find(orgId));
      if (input.expectedVersion !== undefined && input.expectedVersion !== null && input.expectedVersion !== before.version) {
        throw new ConflictError(`The allowlist changed since version ${input.expectedVersion} (now ${before.version}); reload it and save again.`);
      }
      const now = this.clock.now();
      const saved = await repository.save({ orgId, enabled: input.enabled, rules, locations, previousVersion: before.version, updatedAt: now, updatedBy: accountId });
      if (!saved) throw new ConflictError('Someone else saved the allowlist at the same time; reload it and save again.');
      const after = { enabled: input.enabled, rules, locations, version: before.version + 1, updatedAt: now };
      await this.audit.recordAction(by, orgId, 'ip-allowlist.updated', { before, after, savedFrom: adminAddress ?? null }, trx);
      return after;
    });
  }
}

function stateOf(row: Selectable<IpAllowlistTable> | undefined): IpAllowlistState {
  return row
    ? { enabled: row.enabled, rules: row.rules, locations: row.locations, version: row.version, updatedAt: row.updated_at }
    : { enabled: false, rules: [], locations: [], version: 0, updatedAt: null };
}
