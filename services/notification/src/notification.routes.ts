/**
 * The notification API (the edge forwards /api/notifications here unchanged). The access token is
 * checked in onRequest, before the query is validated, so a missing or bad token is a 401 whatever
 * else is wrong with the request.
 */
import { authenticate, principalOf, type TokenVerifier } from '@folio/platform/auth';
import type { App } from '@folio/platform/http';
import { problemResponses } from '@folio/platform/problem';
import { ListNotificationsQuery, NotificationPage } from './notification.schemas.ts';
import type { NotificationService } from './notification.service.ts';

export function registerNotificationRoutes(app: App, deps: { notifications: NotificationService; verifier: TokenVerifier }): void {
  const { notifications } = deps;

  app.get(
    '/api/notifications',
    {
      onRequest: [authenticate(deps.verifier)],
      schema: {
        tags: ['notifications'],
        summary: 'Your notifications, newest first',
        description:
          'What happened to your orders (paid, payment failed, cancelled, refunded), as it was or will be mailed to you. ' +
          'Paged by an opaque cursor: pass nextCursor as cursor for the next page.',
        security: [{ bearerAuth: [] }],
        querystring: ListNotificationsQuery,
        response: { 200: NotificationPage, ...problemResponses(400, 401) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return notifications.list(principalOf(request), request.query);
    },
  );
}
