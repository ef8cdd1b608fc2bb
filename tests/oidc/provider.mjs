// A real OpenID Provider (the certified `oidc-provider` package) on 127.0.0.1, for the
// single sign-on tests. It prints one JSON line, {"issuer": "http://127.0.0.1:PORT"}, once
// it listens, and runs until killed.
//
//   node provider.mjs --port 0 --redirect-uri http://127.0.0.1:8080/api/auth/oidc/callback
//     [--client-id notebox] [--client-secret s3cret] [--auth-method client_secret_basic]
//     [--id-token-ttl 3600] [--token-delay-ms 0]
//
// Its login page (/interaction/:uid) signs in whichever account the form names; the form may
// also set that account's claims (email, email_verified, name, groups), so a test describes
// the person it signs in as. "Cancel" answers the client with access_denied. Consent is
// given with the login.

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'notebox' },
    'client-secret': { type: 'string', default: 'notebox-test-secret' },
    'auth-method': { type: 'string', default: 'client_secret_basic' },
    'id-token-ttl': { type: 'string', default: '3600' },
    'token-delay-ms': { type: 'string', default: '0' },
  },
});

/** sub → claims. A few people the browser tests sign in as; tests add their own. */
const accounts = new Map([
  ['ada', { email: 'ada@example.com', email_verified: true, name: 'Ada Lovelace', groups: ['notebox-admins'] }],
  ['bob', { email: 'bob@example.com', email_verified: true, name: 'Bob', groups: [] }],
]);

const server = createServer();
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: args['auth-method'],
    },
  ],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'groups'],
  },
  async findAccount(ctx, sub) {
    const claims = accounts.get(sub);
    if (!claims) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...claims }) };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { IdToken: Number(args['id-token-ttl']) },
  cookies: { keys: ['notebox-test-provider-cookie-key'] },
});

const delay = Number(args['token-delay-ms']);
provider.use(async (ctx, next) => {
  await next();
  // An answer that arrives after its ID token expired: what a clock skew looks like.
  if (delay && ctx.path === '/token') await new Promise((resolve) => setTimeout(resolve, delay));
});

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
  if (!match) return next();
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    ctx.body = loginPage(uid, details.params.client_id);
    return undefined;
  }
  if (ctx.method !== 'POST') return next();
  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  }
  const form = new URLSearchParams(await body(ctx.req));
  const sub = form.get('account')?.trim();
  if (!sub) {
    ctx.status = 400;
    ctx.body = 'name an account';
    return undefined;
  }
  accounts.set(sub, { ...(accounts.get(sub) ?? {}), ...claimsFrom(form) });
  const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  const result = { login: { accountId: sub }, consent: { grantId } };
  return provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
});

function claimsFrom(form) {
  const claims = {};
  if (form.get('email')) claims.email = form.get('email');
  if (form.has('email_verified')) claims.email_verified = form.get('email_verified') === 'true';
  if (form.get('name')) claims.name = form.get('name');
  if (form.has('groups')) claims.groups = form.get('groups').split(',').filter(Boolean);
  return claims;
}

async function body(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text;
}

function loginPage(uid, clientId) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider · sign in</title></head>
<body>
  <h1>Sign in to the test provider</h1>
  <p>for ${clientId.replace(/[<&"]/g, '')}</p>
  <form method="post" action="/interaction/${uid}/login">
    <label>Account <input name="account" autofocus></label>
    <button type="submit">Sign in</button>
  </form>
  <form method="post" action="/interaction/${uid}/abort">
    <button type="submit">Cancel</button>
  </form>
</body></html>`;
}

server.on('request', provider.callback());
console.log(JSON.stringify({ issuer }));
