// The query string of GET /admin/audit/export: the format and the filters of AuditEventFilter,
// by the same names (`?format=csv&outcome=RESTRICTED&from=2026-01-01T00:00:00Z`).
import { normalizeAddress } from '../../shared/ip-address.ts';
import type { AuditOutcome } from './audit-event.ts';
import type { AuditFilter } from './audit.repository.ts';
import type { ExportFormat } from './audit.service.ts';

const OUTCOMES: readonly AuditOutcome[] = ['SUCCESS', 'RESTRICTED', 'DENIED', 'IP_BLOCKED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'ERROR'];
const TEXT_FILTERS = ['action', 'actorAccountId', 'command', 'objectType'] as const;
const KNOWN = new Set(['format', 'outcome', 'ip', 'from', 'to', ...TEXT_FILTERS]);

export function parseExportQuery(params: URLSearchParams): { format: ExportFormat; filter: AuditFilter } | { error: string } {
  for (const name of params.keys()) if (!KNOWN.has(name)) return { error: `Unknown export parameter "${name}"; use format, ${[...KNOWN].filter((k) => k !== 'format').join(', ')}.` };
  const format = params.get('format') ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') return { error: `format must be ndjson or csv, got "${format}".` };
  const filter: AuditFilter = {};
  for (const name of TEXT_FILTERS) {
    const value = params.get(name);
    if (value) filter[name] = value;
  }
  const outcome = params.get('outcome');
  if (outcome) {
    if (!OUTCOMES.includes(outcome as AuditOutcome)) return { error: `outcome must be one of ${OUTCOMES.join(', ')}, got "${outcome}".` };
    filter.outcome = outcome as AuditOutcome;
  }
  const ip = params.get('ip');
  if (ip) {
    const address = normalizeAddress(ip);
    if (!address) return { error: `ip must be an IP address, got "${ip}".` };
    filter.ip = address;
  }
  for (const name of ['from', 'to'] as const) {
    const value = params.get(name);
    if (!value) continue;
    const time = new Date(value);
    if (Number.isNaN(time.getTime())) return { error: `${name} must be an ISO 8601 time, got "${value}".` };
    filter[name] = time;
  }
  return { format, filter };
}
