// @ts-check
// Starts GraphiQL on /graphql with the options the page carries: Monaco's workers come from this
// server, and the schema is fetched again once the Headers tab holds new headers (GraphiQL itself
// fetches it only at start), so pasting a token is enough for the Docs to load.

/** Monaco's worker labels served under /graphiql/; any other language gets the plain editor worker. */
const WORKERS = ['editorWorkerService', 'json', 'graphql'];

Object.assign(self, {
  MonacoEnvironment: {
    globalAPI: false,
    /** @param {string} _moduleId @param {string} label */
    getWorkerUrl: (_moduleId, label) => `/graphiql/${WORKERS.includes(label) ? label : 'editorWorkerService'}.worker.js`,
  },
});

/** @param {string} text @returns {Record<string, unknown> | null} */
function headersIn(text) {
  try {
    const value = JSON.parse(text || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function start() {
  const root = /** @type {HTMLElement} */ (document.getElementById('root'));
  const options = JSON.parse(/** @type {HTMLElement} */ (document.getElementById('graphiql-options')).textContent ?? '{}');
  const notice = document.getElementById('token-notice');
  // What GraphiQL's own first fetch sent: the Headers tab opens with the page's headers.
  let fetchedWith = JSON.stringify(headersIn(options.headers ?? ''));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let pending;
  /** @param {string} text */
  const onEditHeaders = (text) => {
    const headers = headersIn(text);
    if (!headers) return;
    if (notice) notice.hidden = Object.keys(headers).some((name) => name.toLowerCase() === 'authorization');
    clearTimeout(pending);
    // Typing changes the headers at every key: fetch once they have rested.
    pending = setTimeout(() => {
      const now = JSON.stringify(headers);
      if (now === fetchedWith) return;
      fetchedWith = now;
      /** @type {HTMLButtonElement | null} */ (document.querySelector('button[aria-label^="Re-fetch GraphQL schema"]'))?.click();
    }, 400);
  };
  // Not yoga's `true`: tokens stay out of storage unless the person turns that on in the settings.
  /** @type {any} */ (window).YogaGraphiQL.renderYogaGraphiQL(root, { ...options, shouldPersistHeaders: undefined, onEditHeaders });
}

// graphiql.js, the script after this one, defines YogaGraphiQL.
document.addEventListener('DOMContentLoaded', start);
