// PRODUCT §9 at the HTTP edge: a request's audit event is durable before its response leaves. If
// it cannot be written, the response becomes INTERNAL instead, so nothing is answered unaudited.
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditOutcome } from '../modules/audit/audit-event.ts';
import type { AuditRecorder } from '../modules/audit/audit-recorder.ts';
import type { AuditService } from '../modules/audit/audit.service.ts';
import type { Logger } from '../shared/logger.ts';
import { errorResponse } from './error-response.ts';

/** Writes the recorder's event (unless already written), then answers `response`; `outcome` overrides what the status tells. */
export type Audited = (recorder: AuditRecorder | null, response: Response, outcome?: AuditOutcome, eventOf?: (recorder: AuditRecorder) => AuditEvent) => Promise<Response>;

export function auditedResponses(audit: AuditService, logger: Logger): Audited {
  return async (recorder, response, outcome, eventOf = (r) => r.event(response.status, outcome)) => {
    if (!recorder || recorder.written) return response;
    try {
      await audit.append(eventOf(recorder));
      recorder.written = true;
      return response;
    } catch (error) {
      const requestId = response.headers.get('x-request-id') ?? randomUUID();
      logger.error('audit event not written', { error, requestId });
      return errorResponse(500, 'INTERNAL', 'Internal error.', requestId);
    }
  };
}
