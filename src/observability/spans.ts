// The tracer every span of the service comes from, and how a piece of work becomes a span. Until
// startTracing (tracing.ts) registers a provider the API's tracer is a no-op: a span costs an
// object and records nothing.
import { type Span, type SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * The tracer of the provider registered now: asked for each span, because the API's proxy tracer
 * keeps the first provider's tracer for good, and a provider may be shut down and another started.
 */
export const tracer = () => trace.getTracer('teamgraph');

/**
 * Runs `work` in a new active span that ends when it returns or settles. A failure marks the span
 * an error with the error's class only: messages may quote a client's values (a bad input, a
 * database error's detail), and spans leave the process.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => T): T {
  return tracer().startActiveSpan(name, options, (span) => {
    const fail = (error: unknown) => {
      failSpan(span, error);
      span.end();
      throw error;
    };
    let result: T;
    try {
      result = work(span);
    } catch (error) {
      return fail(error);
    }
    // Any thenable: yoga's phases return promise-likes of their own.
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      return (result as PromiseLike<unknown>).then((value) => {
        span.end();
        return value;
      }, fail) as T;
    }
    span.end();
    return result;
  });
}

/** Marks `span` failed, naming the error's class and (for database errors) its SQLSTATE. */
export function failSpan(span: Span, error: unknown): void {
  if (!span.isRecording()) return;
  const code = (error as { code?: unknown } | null)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.constructor.name : 'Error');
  span.setStatus({ code: SpanStatusCode.ERROR });
}
