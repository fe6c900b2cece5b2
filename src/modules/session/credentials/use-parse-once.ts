// Step 5 of the no-stale-access protocol (told in credential-cache.ts), as a yoga plugin: a
// request run twice is parsed once. The first run keeps what yoga's request parser made of the
// body (the params, or the error), and the second run is given the same instead of reading the
// body, which the first run consumed.
import type { Plugin } from 'graphql-yoga';

/** What the first run of a request parsed; shared by the runs through the server context. */
export interface ParseMemo {
  parsed?: Promise<unknown>;
}

type RequestParser = Parameters<Parameters<NonNullable<Plugin['onRequestParse']>>[0]['setRequestParser']>[0];

export function useParseOnce(): Plugin<{}, { parseMemo?: ParseMemo }> {
  return {
    // Runs after yoga's own parsers have chosen theirs (plugins come after them).
    onRequestParse({ serverContext, requestParser, setRequestParser }) {
      const memo = serverContext.parseMemo;
      if (!memo || !requestParser) return;
      if (memo.parsed) {
        const parsed = memo.parsed as ReturnType<RequestParser>;
        setRequestParser(() => parsed);
        return;
      }
      setRequestParser((request) => {
        const parsed = Promise.resolve(requestParser(request));
        memo.parsed = parsed;
        return parsed;
      });
    },
  };
}
