/** Thin handlers for the signed-in user's profile and the administration of accounts. */
import { authenticate, principalOf, requireRole, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { IdParams, PatchMeBody, Profile, RolesBody, UserPage, UsersQuery } from './user.schemas.ts';
import type { UserService } from './user.service.ts';

const security = [{ bearerAuth: [] }];

export function registerUserRoutes(app: App, deps: { users: UserService; verifier: TokenVerifier }): void {
  const { users } = deps;
  const signedIn = authenticate(deps.verifier);
  const admin = [signedIn, requireRole('admin')];

  app.get(
    '/api/me',
    {
      preHandler: signedIn,
      schema: { tags: ['me'], summary: 'Your profile', security, response: { 200: Profile, ...problemResponses(401) } },
    },
    async (request) => users.profile(principalOf(request)),
  );

  app.patch(
    '/api/me',
    {
      preHandler: signedIn,
      schema: {
        tags: ['me'],
        summary: 'Change your name or phone number',
        security,
        body: PatchMeBody,
        response: { 200: Profile, ...problemResponses(400, 401, 422) },
      },
    },
    async (request) => users.updateProfile(principalOf(request), request.body),
  );

  app.get(
    '/api/users',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        summary: 'List accounts (admin)',
        security,
        querystring: UsersQuery,
        response: { 200: UserPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => users.list(principalOf(request), request.query),
  );

  app.put(
    '/api/users/:id/roles',
    {
      preHandler: admin,
      schema: {
        tags: ['users'],
        summary: "Replace an account's roles (admin)",
        description: 'Takes effect in the access tokens issued from now on (at the latest after one access-token lifetime).',
        security,
        params: IdParams,
        body: RolesBody,
        response: { 200: Profile, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => users.setRoles(principalOf(request), request.params.id, request.body.roles),
  );
}
