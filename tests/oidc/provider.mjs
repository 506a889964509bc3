// A real OpenID provider (panva's certified oidc-provider) for Terrace's OIDC tests, on loopback.
//
// Environment: OIDC_PORT; OIDC_JWKS, a file holding the private signing keys (the first RS256 and
// ES256 keys sign; restarting with another file rotates them); OIDC_REDIRECT_URI, the Terrace
// web UI's callback. Clients: `terrace-web` (authorization code + PKCE, secret `web-secret`) and
// `robot-<role>` / `robot-<role>-es256` (client credentials, secret `robot-secret`), whose JWT
// access tokens carry `roles` and the resource asked for as `aud`. Accounts sign in through the
// provider's development login form with any password; `alice` is a reviewer, anyone else a reader.
// GET /test/jwks-hits tells how many times the key set was fetched.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const jwks = JSON.parse(readFileSync(process.env.OIDC_JWKS, 'utf8'));
const accountRoles = { alice: ['reviewer'] };
const robots = ['reader', 'submitter', 'reviewer', 'admin', 'none'].flatMap((role) => [
  { suffix: '', alg: 'RS256', role },
  { suffix: '-es256', alg: 'ES256', role },
]).map(({ suffix, alg, role }) => ({
  client_id: `robot-${role}${suffix}`,
  client_secret: 'robot-secret',
  grant_types: ['client_credentials'],
  response_types: [],
  redirect_uris: [],
  roles: role === 'none' ? [] : [role],
  token_alg: alg,
}));

const provider = new Provider(issuer, {
  jwks,
  clients: [
    {
      client_id: 'terrace-web',
      client_secret: 'web-secret',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [process.env.OIDC_REDIRECT_URI],
    },
    ...robots,
  ],
  extraClientMetadata: { properties: ['roles', 'token_alg'] },
  claims: { openid: ['sub', 'roles'] },
  conformIdTokenClaims: false,
  cookies: { keys: ['terrace-test-cookie-key'] },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    return { accountId: id, claims: () => ({ sub: id, roles: accountRoles[id] ?? ['reader'] }) };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:terrace',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: 'api',
        audience: resource,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: client.token_alg ?? 'RS256' } },
      }),
    },
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind === 'ClientCredentials') return { roles: ctx.oidc.client.roles };
    return token.accountId ? { roles: accountRoles[token.accountId] ?? ['reader'] } : undefined;
  },
});

let jwksHits = 0;
provider.use(async (ctx, next) => {
  if (ctx.path === '/test/jwks-hits') {
    ctx.body = { hits: jwksHits };
    return;
  }
  if (ctx.path === '/jwks') jwksHits += 1;
  await next();
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
