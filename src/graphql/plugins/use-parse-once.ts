// A request the HTTP layer may run twice (it went ahead on cached credentials and their barrier
// then showed them changed; see http/graphql-route.ts) is parsed once: the first run keeps what
// yoga's request parser made of the body (the params, or the error), and the second run is given
// the same instead of reading the body, which the first run consumed.
import type { Plugin } from 'graphql-yoga';

/** What the first run of a request parsed; shared by the runs through the server context. */
export interface ParseMemo {
  parsed?: Promise<unknown>;
}

export function useParseOnce(): Plugin<{}, { parseMemo?: ParseMemo }> {
  return {
    // Runs after yoga's own parsers have chosen theirs (plugins come after them).
    onRequestParse({ serverContext, requestParser, setRequestParser }) {
      const memo = serverContext.parseMemo;
      if (!memo || !requestParser) return;
      if (memo.parsed) {
        const parsed = memo.parsed;
        setRequestParser(() => parsed as any);
        return;
      }
      setRequestParser((request) => {
        memo.parsed = Promise.resolve(requestParser(request));
        return memo.parsed as any;
      });
    },
  };
}
