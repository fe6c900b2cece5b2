// The device authorization endpoint and the verification page where a person approves or denies a code (RFC 8628).
import type { PasswordCheck } from '../../modules/oauth/oauth.service.ts';
import { OAuthError } from '../../modules/oauth/oauth-error.ts';
import { displayUserCode } from '../../modules/oauth/user-code.ts';
import { deviceNotice, devicePage } from '../pages.ts';
import { authenticateClient } from './client-auth.ts';
import { checkSignIn, refused } from '../known-device.ts';
import { json, type OAuthRouteDeps, readForm, single } from './oauth-http.ts';

/** The FormGuard purpose of the verification form. */
const DEVICE_FORM = 'device';

export async function deviceAuthorization(deps: OAuthRouteDeps, request: Request): Promise<Response> {
  const issuer = deps.publicUrl;
  const form = await readForm(request);
  const client = await authenticateClient(deps, request, form);
  if (client.kind !== 'public') throw new OAuthError('unauthorized_client', 'Connections use the client_credentials grant.');
  if (client.client.adminsOnly) throw new OAuthError('unauthorized_client', `${client.client.id} signs in with the authorization code flow only.`);
  const started = await deps.oauth.startDevice(client.client, deps.oauth.parseScope(single(form, 'scope')));
  const userCode = displayUserCode(started.userCode);
  return json(200, {
    device_code: started.deviceCode,
    user_code: userCode,
    verification_uri: `${issuer}/device`,
    verification_uri_complete: `${issuer}/device?user_code=${userCode}`,
    expires_in: started.expiresIn,
    interval: started.interval,
  });
}

export function deviceVerificationPage(deps: OAuthRouteDeps, request: Request): Response {
  return devicePage(200, deps.forms.issue(request, DEVICE_FORM), { userCode: new URL(request.url).searchParams.get('user_code') ?? undefined });
}

export async function deviceDecision(deps: OAuthRouteDeps, request: Request, address: string | undefined): Promise<Response> {
  const form = await readForm(request);
  const userCode = form.get('user_code') ?? '';
  const email = form.get('email') ?? '';
  const again = (status: number, error: string) => devicePage(status, deps.forms.issue(request, DEVICE_FORM), { userCode, email, error });
  // Issue 15: an approval forged by another site would sign the forger's terminal in.
  const refusal = deps.forms.checkForm(request, form, DEVICE_FORM);
  if (refusal) return again(403, refusal.message);
  if (!(await deps.oauth.mayTryUserCode(address ?? 'unknown'))) return again(429, 'Too many wrong codes from this address. Wait 15 minutes, then try again.');
  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'deny') return again(400, 'Choose Approve or Deny.');
  let check: Awaited<ReturnType<typeof checkSignIn>> | undefined;
  const outcome = await deps.oauth.decideDevice(
    userCode,
    address,
    async () => {
      check = await checkSignIn(deps, request, form, address);
      return check.ok ? check.account : null;
    },
    decision === 'approve',
  );
  if (outcome === 'unknown-code') return again(400, 'That code is not valid: it may be mistyped, expired or already used.');
  if (outcome === 'wrong-credentials') {
    return refused(again, check as Exclude<PasswordCheck, { ok: true }>);
  }
  const known = (response: Response) => {
    if (check?.ok) response.headers.append('set-cookie', check.rememberDevice);
    return response;
  };
  if (outcome === 'approved') return known(deviceNotice(200, 'Approved. Return to your terminal: it is now signed in.'));
  if (outcome === 'denied') return known(deviceNotice(200, 'Denied. The terminal will not be signed in.'));
  return deviceNotice(403, outcome.description);
}
