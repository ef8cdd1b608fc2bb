// Verifies a notebox token the way the PowerSync service does, with an independent
// library (jose, which the service itself uses) against the JWKS notebox serves.
// Usage: node verify-token.mjs JWKS_URL AUDIENCE TOKEN [TOKEN…]
// Prints one JSON line per token: {"ok":true,"kid":…,"claims":…} or {"ok":false,"error":…}.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [jwksUrl, audience, ...tokens] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl), { cacheMaxAge: 0, cooldownDuration: 0 });

for (const token of tokens) {
  try {
    const header = decodeProtectedHeader(token);
    if (!header.kid) throw new Error('token has no kid');
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      algorithms: ['RS256', 'EdDSA', 'ES256'],
      audience,
      requiredClaims: ['sub', 'iat', 'exp'],
      clockTolerance: 60,
    });
    // PowerSync refuses tokens that live longer than a day (PSYNC_S2104).
    if (payload.exp - payload.iat > 86400) throw new Error(`lifetime ${payload.exp - payload.iat}s exceeds 86400s`);
    if ('nbf' in payload) throw new Error('nbf present');
    console.log(JSON.stringify({ ok: true, kid: protectedHeader.kid, typ: protectedHeader.typ, claims: payload }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: `${error.code ?? ''} ${error.message}`.trim() }));
  }
}
