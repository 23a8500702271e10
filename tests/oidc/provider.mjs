// A real OpenID Connect provider (the certified `oidc-provider` package) for
// Klaxon's tests.  It is a test peer only: Klaxon itself never needs Node.
//
// Usage:
//   node provider.mjs <config.json> [port]
//   (the port may also come from OIDC_PORT or PORT; it defaults to 0, i.e. any)
//
// config.json:
//   {
//     "clients":  [{"client_id": "...", "client_secret": "...",
//                   "redirect_uris": ["http://127.0.0.1:8000/auth/callback"],
//                   "token_endpoint_auth_method": "client_secret_basic"}],  // optional
//     "accounts": {"alice": {"email": "alice@example.com", "email_verified": true,
//                            "name": "Alice", "groups": ["oncall"]}}
//   }
//
// The provider listens on 127.0.0.1 only, with issuer http://127.0.0.1:<port>,
// and prints "ready http://127.0.0.1:<port>" on stdout once it is listening.
//
// Sign-in uses oidc-provider's built-in devInteractions: a form whose "login"
// field is the account id (a key of "accounts"); any password is accepted.
// Consent is granted automatically (see loadExistingGrant below).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';

function fail(message) {
  process.stderr.write(`oidc test provider: ${message}\n`);
  process.exit(2);
}

const [configPath, portArg] = process.argv.slice(2);
if (!configPath) {
  fail('usage: node provider.mjs <config.json> [port]');
}

const portText = portArg ?? process.env.OIDC_PORT ?? process.env.PORT ?? '0';
const port = Number.parseInt(portText, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535 || String(port) !== portText.trim()) {
  fail(`invalid port ${JSON.stringify(portText)}`);
}

let config;
try {
  config = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read config ${configPath}: ${err.message}`);
}

const accounts = config.accounts ?? {};
const clients = (config.clients ?? []).map((c) => {
  if (!c.client_id || !c.client_secret || !Array.isArray(c.redirect_uris)) {
    fail(`client needs client_id, client_secret and redirect_uris: ${JSON.stringify(c)}`);
  }
  return {
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  };
});

// A fresh signing key per run, so no key material lives in the repository.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: `test-${randomBytes(6).toString('hex')}`,
  use: 'sig',
  alg: 'RS256',
};

const CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name'],
  groups: ['groups'],
};

async function findAccount(_ctx, id) {
  if (!Object.hasOwn(accounts, id)) {
    return undefined;
  }
  const account = accounts[id];
  return {
    accountId: id,
    async claims(_use, _scope, _claims, _rejected) {
      // oidc-provider filters these down to what the granted scopes/claims allow.
      return { ...account, sub: id };
    },
  };
}

// Tests must not be stopped by a consent screen: grant whatever OIDC scopes
// and claims the client asks for (the provider still filters them against
// `claims` and the client's registration).
async function loadExistingGrant(ctx) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
  let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) {
    grant = new oidc.provider.Grant({
      clientId: oidc.client.clientId,
      accountId: oidc.session.accountId,
    });
  }
  const scopes = [...oidc.requestParamOIDCScopes];
  if (scopes.length) {
    grant.addOIDCScope(scopes.join(' '));
  }
  const claims = [...oidc.requestParamClaims];
  if (claims.length) {
    grant.addOIDCClaims(claims);
  }
  await grant.save();
  return grant;
}

const issuer = (boundPort) => `http://${HOST}:${boundPort}`;

// Bind first so that port 0 works: the issuer must name the real port.
const server = createServer();
server.on('error', (err) => fail(`cannot listen on ${HOST}:${port}: ${err.message}`));
server.listen(port, HOST, () => {
  const boundPort = server.address().port;
  const provider = new Provider(issuer(boundPort), {
    clients,
    findAccount,
    loadExistingGrant,
    jwks: { keys: [signingKey] },
    cookies: {
      // Signed cookies; not `secure`, since this runs over plain HTTP on loopback.
      keys: [randomBytes(32).toString('hex')],
    },
    claims: CLAIMS,
    scopes: ['openid', 'email', 'profile', 'groups'],
    // Put the scope-granted claims in the ID token too, not only at userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    pkce: {
      // Always required; oidc-provider 9 only supports S256.
      required: () => true,
    },
    features: {
      devInteractions: { enabled: true },
      claimsParameter: { enabled: true },
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  });

  provider.on('server_error', (_ctx, err) => {
    process.stderr.write(`server_error: ${err.stack ?? err}\n`);
  });
  for (const event of ['authorization.error', 'grant.error', 'introspection.error', 'userinfo.error']) {
    provider.on(event, (_ctx, err) => {
      process.stderr.write(`${event}: ${err.name}: ${err.message} ${err.error_description ?? ''}\n`);
    });
  }

  // devInteractions takes any login as the account id; an unknown one would then
  // fail inside the provider (500). Answer it as a real IdP refusing the sign-in
  // would: back to the client with error=access_denied.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) {
      return next();
    }
    const chunks = [];
    for await (const chunk of ctx.req) {
      chunks.push(chunk);
    }
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    // oidc-provider's own body parser picks up an already parsed body.
    ctx.request.body = body;
    if (body.prompt === 'login' && !Object.hasOwn(accounts, body.login ?? '')) {
      return provider.interactionFinished(ctx.req, ctx.res, {
        error: 'access_denied',
        error_description: 'unknown account',
      }, { mergeWithLastSubmission: false });
    }
    return next();
  });

  server.on('request', provider.callback());
  process.stdout.write(`ready ${issuer(boundPort)}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
