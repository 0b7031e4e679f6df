/** Thin handlers for the signed-in user's saved addresses. */
import { authenticate, principalOf, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { Type } from 'typebox';
import { AddressIdParams, AddressList, AddressPatch, NewAddress, SavedAddress } from './address.schemas.ts';
import type { AddressService } from './address.service.ts';

const tags = ['addresses'];
const security = [{ bearerAuth: [] }];

export function registerAddressRoutes(app: App, deps: { addresses: AddressService; verifier: TokenVerifier }): void {
  const { addresses } = deps;
  const preHandler = authenticate(deps.verifier);

  app.get(
    '/api/me/addresses',
    { preHandler, schema: { tags, summary: 'Your saved addresses', security, response: { 200: AddressList, ...problemResponses(401) } } },
    async (request) => ({ items: await addresses.list(principalOf(request)) }),
  );

  app.post(
    '/api/me/addresses',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Save an address (at most 20; the first becomes the default)',
        security,
        body: NewAddress,
        response: { 201: SavedAddress, ...problemResponses(400, 401, 422) },
      },
    },
    async (request, reply) => reply.code(201).send(await addresses.create(principalOf(request), request.body)),
  );

  app.patch(
    '/api/me/addresses/:id',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Change a saved address (any subset of its fields)',
        security,
        params: AddressIdParams,
        body: AddressPatch,
        response: { 200: SavedAddress, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => addresses.update(principalOf(request), request.params.id, request.body),
  );

  app.delete(
    '/api/me/addresses/:id',
    {
      preHandler,
      schema: {
        tags,
        summary: 'Delete a saved address',
        security,
        params: AddressIdParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await addresses.remove(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
