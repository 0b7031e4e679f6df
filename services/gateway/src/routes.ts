/**
 * Which public path prefixes each service answers. The gateway forwards a prefix only when the
 * service's URL is configured, so the table can name services that a deployment does not run yet.
 * Services keep the public paths (the catalog serves /api/products itself): no rewriting, and a
 * path means the same thing at the edge and in a service's own OpenAPI document.
 */
export interface Upstream {
  service: string;
  /** Variable holding the service's base URL. */
  urlVariable: string;
  prefixes: string[];
}

export const upstreams: Upstream[] = [
  { service: 'identity', urlVariable: 'IDENTITY_URL', prefixes: ['/api/auth', '/api/me', '/api/users'] },
  { service: 'catalog', urlVariable: 'CATALOG_URL', prefixes: ['/api/products', '/api/categories'] },
  { service: 'cart', urlVariable: 'CART_URL', prefixes: ['/api/cart'] },
  { service: 'inventory', urlVariable: 'INVENTORY_URL', prefixes: ['/api/inventory'] },
  { service: 'order', urlVariable: 'ORDER_URL', prefixes: ['/api/orders', '/api/admin/orders'] },
  { service: 'payment', urlVariable: 'PAYMENT_URL', prefixes: ['/api/payments'] },
  { service: 'shipping', urlVariable: 'SHIPPING_URL', prefixes: ['/api/shipping'] },
  { service: 'notification', urlVariable: 'NOTIFICATION_URL', prefixes: ['/api/notifications'] },
];
