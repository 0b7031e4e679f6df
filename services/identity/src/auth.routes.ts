/** Thin handlers for registration, sign-in, token refresh, logout and the published keys. */
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { Type } from 'typebox';
import type { AuthService } from './auth.service.ts';
import type { TokenService } from './token.service.ts';
import { Jwks, LoginBody, RefreshBody, RegisterBody, TokenResponse, User } from './user.schemas.ts';

const tags = ['auth'];
/** Other services cache the key set too (10 minutes, refetched on an unknown kid), so this can be short. */
const JWKS_MAX_AGE_SECONDS = 300;

export function registerAuthRoutes(app: App, deps: { auth: AuthService; tokens: TokenService }): void {
  const { auth, tokens } = deps;

  app.post(
    '/api/auth/register',
    {
      schema: {
        tags,
        summary: 'Create an account (role customer)',
        body: RegisterBody,
        response: { 201: User, ...problemResponses(400, 409, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await auth.register(request.body)),
  );

  app.post(
    '/api/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in: an access token and a refresh token',
        description: 'Wrong email and wrong password answer the same 401. Repeated failures per account or per client address answer 429 with Retry-After.',
        body: LoginBody,
        response: { 200: TokenResponse, ...problemResponses(400, 401, 429) },
      },
    },
    async (request) => auth.login(request.body, request.ip),
  );

  app.post(
    '/api/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for new tokens',
        description: 'Refresh tokens are single use. Presenting one that was already used revokes every token of that sign-in.',
        body: RefreshBody,
        response: { 200: TokenResponse, ...problemResponses(400, 401) },
      },
    },
    async (request) => auth.refresh(request.body.refreshToken),
  );

  app.post(
    '/api/auth/logout',
    {
      schema: {
        tags,
        summary: 'Sign out: revokes the refresh token and every token of its sign-in',
        body: RefreshBody,
        response: { 204: Type.Null({ description: 'Signed out (also for an unknown or already revoked token)' }), ...problemResponses(400) },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refreshToken);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags,
        summary: 'The public keys that verify access tokens (JWKS)',
        response: { 200: Jwks },
      },
    },
    async (_request, reply) => reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`).send(tokens.jwks()),
  );
}
