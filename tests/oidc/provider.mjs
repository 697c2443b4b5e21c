// A real OpenID Provider for the single sign-on tests: panva's oidc-provider (OpenID
// Certified), configured as a provincial identity platform would be for one client.
//
//   node provider.mjs CONFIG.json
//
// CONFIG: {"port", "client_id", "client_secret", "redirect_uris": [...],
//          "users": [{"sub", "login", "password", "claims": {...}, "amr": [...]}],
//          "userinfo_only": false}   (true: profile claims in UserInfo, not the ID token)
//
// What is ours here is only what every deployment of oidc-provider writes itself: the
// account store (findAccount), the sign-in page of its interaction (login + password,
// checked against the users above) and a first-party consent (no consent page for our
// own client). Everything on the protocol side -- discovery, JWKS, the authorization
// endpoint with PKCE, the token endpoint, ID token signing, one-time codes -- is the
// library's. Prints "ready ISSUER" on stdout once it listens on 127.0.0.1; stops on
// SIGTERM.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const users = new Map(config.users.map((user) => [user.login, user]));
const bySub = new Map(config.users.map((user) => [user.sub, user]));
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [{ ...signingKey, kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { required: () => true },  // S256 only, the library's default method list
  // The portal's claims: amr (how it authenticated the person, RFC 8176) with openid, the
  // officer number (执法证号) with profile; into the ID token itself, as Keycloak's mappers
  // and most provincial platforms do (conformIdTokenClaims off, unless userinfo_only).
  claims: { openid: ['sub', 'amr'], profile: ['name', 'officer_number', 'preferred_username'] },
  conformIdTokenClaims: Boolean(config.userinfo_only),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, preferred_username: user.login, ...user.claims };
      },
    };
  },
  // A first-party client: grant what it asked for, as the provider's documentation shows
  // for skipping consent.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 300, Session: 3600, Grant: 3600 },
});
provider.proxy = false;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; if (body.length > 10000) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

function page(res, status, uid, message) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><title>统一身份认证</title><p>${escape(message)}</p>
<form method="post" action="/interaction/${escape(uid)}">
<input name="login" autocomplete="username"><input name="password" type="password">
<button>登录</button></form>`);
}

// The interaction (sign-in) page: GET shows the form, POST checks login and password and
// hands the result back to the provider (interactionFinished), which resumes the flow.
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') return page(res, 200, uid, '请登录');
  const form = await readForm(req);
  const user = users.get(form.get('login') || '');
  if (!user || user.password !== form.get('password')) {
    return page(res, 401, uid, 'wrong login or password');
  }
  return provider.interactionFinished(req, res, {
    login: { accountId: user.sub, amr: user.amr || ['pwd'] },
  }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (!match) return callback(req, res);
  return interaction(req, res, match[1]).catch((error) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${error.message}`);
  });
});
server.listen(config.port, '127.0.0.1', () => process.stdout.write(`ready ${issuer}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
