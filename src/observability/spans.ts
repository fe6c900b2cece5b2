// The tracer every span of the service comes from, and how a piece of work becomes a span. Until
// startTracing (tracing.ts) registers a provider nothing is recorded, and inSpan runs the work
// directly: even the API's no-op tracer costs ~1.5 µs a span, a dozen times a request.
import { INVALID_SPAN_CONTEXT, type Span, type SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';

let tracing = false;
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Called by startTracing and its shutdown only. */
export function setTracing(on: boolean): void {
  tracing = on;
}

/** Whether spans are recorded: false until startTracing, and after its shutdown. */
export const isTracing = (): boolean => tracing;

/**
 * The tracer of the provider registered now: asked for each span, because the API's proxy tracer
 * keeps the first provider's tracer for good, and a provider may be shut down and another started.
 */
export const tracer = () => trace.getTracer('teamgraph');

/**
 * Runs `work` in a new active span that ends when it returns or settles. A failure marks the span
 * an error with the error's class only: messages may quote a client's values (a bad input, a
 * database error's detail), and spans leave the process. A failure `isFault` says is the client's
 * mistake is named on the span (error.type) without marking it failed, as a 4xx is not a fault.
 */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => T, isFault: (error: unknown) => boolean = () => true): T {
  if (!tracing) return work(NOT_RECORDING);
  return tracer().startActiveSpan(name, options, (span) => {
    const fail = (error: unknown) => {
      if (isFault(error)) failSpan(span, error);
      else if (span.isRecording()) span.setAttribute('error.type', errorType(error));
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
  span.setAttribute('error.type', errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.constructor.name : 'Error';
}
