// GET /admin/audit/export: every matching event, streamed as CSV or JSON lines, for an admin
// (PRODUCT §9). The export is itself an admin action: recorded, and durable, before the first
// byte leaves. It is charged AUDIT_EXPORT_POINTS to the caller's rate limit (issue 21).
import { parseExportQuery } from '../modules/audit/audit-export.ts';
import { rateLimitedError } from '../modules/rate-limit/rate-limit.service.ts';
import { isAdmin } from '../modules/session/caller.ts';
import type { Services } from '../services.ts';
import type { Audited } from './audited.ts';
import type { Authenticate } from './authenticate.ts';
import { errorResponse } from './error-response.ts';
import { rateLimitHeaders } from './rate-limit-headers.ts';
import type { RoutedInfo } from './router.ts';

/** A tenth of the default hourly budget: an export may read the whole log, as the largest query reads 5,000 points' worth. */
export const AUDIT_EXPORT_POINTS = 500;

export function auditExportRoute(services: Services, authenticate: Authenticate, audited: Audited) {
  return async (request: Request, info: RoutedInfo): Promise<Response> => {
    const { requestId } = info.observed;
    if (request.method !== 'GET') return errorResponse(405, 'BAD_USER_INPUT', 'Use GET.', requestId, { allow: 'GET' }, 'METHOD_NOT_ALLOWED');
    const auth = await authenticate(request, info, requestId);
    if (!auth.ok) return audited(auth.recorder, auth.response, auth.outcome);
    const recorder = auth.recorder;
    if (recorder) recorder.operationName = 'auditExport';
    if (!isAdmin(auth.caller)) {
      return audited(recorder, errorResponse(403, 'FORBIDDEN', 'Exporting the audit log needs an organisation admin on the admin page, or an admin API key.', requestId), 'DENIED');
    }
    const parsed = parseExportQuery(new URL(request.url).searchParams);
    if ('error' in parsed) return audited(recorder, errorResponse(400, 'BAD_USER_INPUT', parsed.error, requestId, {}, 'INVALID_EXPORT_QUERY'), 'ERROR');
    const charged = await services.rateLimits.charge(auth.caller, auth.org, AUDIT_EXPORT_POINTS);
    const limitHeaders = rateLimitHeaders(charged, services.clock.now());
    if (!charged.granted) {
      const refusal = rateLimitedError(charged, services.clock.now());
      return audited(recorder, errorResponse(429, 'RATE_LIMITED', refusal.message, requestId, limitHeaders), 'RATE_LIMITED');
    }
    const response = new Response(services.audit.export(auth.caller.orgId, parsed.filter, parsed.format), {
      headers: {
        ...limitHeaders,
        'content-type': parsed.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'content-disposition': `attachment; filename="audit-${auth.caller.orgId}.${parsed.format}"`,
        'x-request-id': requestId,
      },
    });
    return audited(recorder, response, undefined, (r) => r.actionEvent(auth.caller.orgId, 'audit.exported', { format: parsed.format, filter: parsed.filter }));
  };
}
