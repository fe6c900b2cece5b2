// @ts-check
// The admin page's entry module: it wires the screens and signs in. Like the modules it imports it
// is hand-written and served as is (no build step). It signs in as the public OAuth client
// teamgraph-admin and uses the same public GraphQL API as everyone else, plus GET
// /admin/audit/export. Every value from the server is put into the page as text, never as HTML.
import { loadAccess, wireAccess } from './access.js';
import { loadAllowlist, wireAllowlist } from './allowlist.js';
import { loadAudit, wireAudit } from './audit.js';
import { completeSignIn, gql, signOut, signedIn, startSignIn } from './auth.js';
import { $, say } from './dom.js';
import { loadPeople, wirePeople } from './people.js';
import { loadKeys, wireKeys } from './keys.js';
import { loadPermissions, wirePermissions } from './permissions.js';
import { enterOrganisation, showOnly, showSignIn, startRouting } from './router.js';
import { loadSessions, wireSessions } from './sessions.js';
import { loadStreams, wireStreams } from './streams.js';

/** @typedef {import('./router.js').Organization} Organization */

function signIn() {
  // Web Crypto, which PKCE needs, exists only in a secure context.
  if (!crypto.subtle) return showSignIn('This page needs HTTPS (or localhost) to sign in securely.');
  return startSignIn();
}

async function signOutOfPage() {
  await signOut();
  showSignIn('You are signed out.');
  $('signin-title').focus();
}

async function start() {
  $('sign-in').addEventListener('click', signIn);
  $('sign-out').addEventListener('click', signOutOfPage);
  startRouting({ permissions: loadPermissions, allowlist: loadAllowlist, audit: loadAudit, streams: loadStreams, people: loadPeople, sessions: loadSessions, access: loadAccess, keys: loadKeys });
  wirePermissions();
  wireAllowlist();
  wireAudit();
  wireStreams();
  wirePeople();
  wireSessions();
  wireAccess();
  wireKeys();
  try {
    if (location.pathname === '/admin/callback') await completeSignIn(new URLSearchParams(location.search));
    if (!signedIn()) return showSignIn();
    const { viewer } = /** @type {{ viewer: { account: { email: string, isOrgAdmin: boolean } | null, organization: Organization | null } }} */ (
      await gql('query AdminViewer { viewer { account { id email displayName isOrgAdmin } organization { id name } } }')
    );
    $('sign-out').hidden = false;
    say($('who'), `${viewer.account?.email ?? ''} · ${viewer.organization?.name ?? ''}`);
    if (!viewer.account?.isOrgAdmin || !viewer.organization) {
      showOnly('refused');
      return;
    }
    await enterOrganisation(viewer.organization);
  } catch (error) {
    showSignIn(/** @type {Error} */ (error).message);
  }
}

start();
