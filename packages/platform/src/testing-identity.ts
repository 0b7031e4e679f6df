/**
 * A real token issuer for the tests of services that verify access tokens: an Ed25519 key pair,
 * its JWKS served over HTTP at /.well-known/jwks.json (as the identity service serves it), and
 * signed access tokens. Point a service's IDENTITY_URL at `url`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Role } from './auth.ts';

export interface TestIdentity {
  url: string;
  issuer: string;
  audience: string;
  /** A valid access token for this user (15 minutes unless expiresIn says otherwise). */
  token(userId: string, opts?: { roles?: Role[]; email?: string; expiresIn?: string | number }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIdentity(opts: { issuer?: string; audience?: string } = {}): Promise<TestIdentity> {
  const issuer = opts.issuer ?? 'folio-identity';
  const audience = opts.audience ?? 'folio-api';
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const kid = `test-${Date.now().toString(36)}`;
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }] });
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    issuer,
    audience,
    token: (userId, o = {}) =>
      new SignJWT({ roles: o.roles ?? ['customer'], ...(o.email ? { email: o.email } : {}) })
        .setProtectedHeader({ alg: 'EdDSA', kid })
        .setSubject(userId)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(o.expiresIn ?? '15m')
        .sign(privateKey),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
