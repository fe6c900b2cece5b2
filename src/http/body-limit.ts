// How much of a request body the service reads (issue 15): MAX_BODY_BYTES, for GraphQL and for
// forms alike, whether the length is declared or the body is chunked.
import { errorResponse } from './error-response.ts';

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads at most MAX_BODY_BYTES of the body; null when it is larger. */
export async function boundBody(request: Request): Promise<Request | null> {
  const declared = request.headers.get('content-length');
  if (Number(declared ?? 0) > MAX_BODY_BYTES) return null;
  // With a declared length the HTTP parser delivers exactly that many bytes: no need to count.
  if (!request.body || (declared !== null && /^\d+$/.test(declared))) return request;
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return new Request(request.url, { method: request.method, headers: request.headers, body: Buffer.concat(chunks) });
}

/** The answer to a body over the limit. */
export function bodyTooLarge(requestId: string): Response {
  return errorResponse(413, 'BAD_USER_INPUT', `The request body is larger than ${MAX_BODY_BYTES} bytes.`, requestId, {}, 'BODY_TOO_LARGE');
}
