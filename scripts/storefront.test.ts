/**
 * The storefront, from the reader's side: Debian's Chromium (driven by playwright-core) on the built
 * storefront, served by the edge of a real distributed topology (a process per service on PostgreSQL,
 * Redis and Kafka, the payment gateway simulator's hosted page). Every scenario of seed 001: the happy
 * path to the confirmation with the cart empty afterwards, a declined card then a successful retry, a
 * cancel on the payment page then a retry, the timeout (in a topology of its own with a short payment
 * window) ending in the cancellation message, a refund ending in the refund message, and a signed-out
 * reader sent to sign in. Each test leaves a screenshot of its final screen in .artifacts/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, kafkaBrokers, redisUrl, requireInfra } from '@folio/platform/testing';
import type { Browser, Locator, Page } from 'playwright-core';
import { buildStorefront, hasChromium, launchBrowser, payOnHostedPage, screenshot } from './lib/browser.ts';
import { cards, type Edge, type Json, type Reader, startTestTopology, type TestTopology } from './lib/e2e.ts';

const infra = Boolean(kafkaBrokers() && redisUrl());
const skip = requireInfra ? false : !infra ? 'needs Kafka and Redis (npm run infra:up)' : !hasChromium() ? 'needs Chromium (apt-get install chromium)' : false;

/** The machine is slow and shared: waits are generous, and always for something visible, never a fixed time. */
const UI_TIMEOUT_MS = 30_000;
/** The short payment window of the timeout topology. */
const SHORT_WINDOW_SECONDS = 20;

const fastJobs = {
  PAYMENT_SWEEP_INTERVAL_MS: '300',
  PAYMENT_RECONCILE_AFTER_SECONDS: '5',
  RESERVATION_SWEEP_INTERVAL_MS: '500',
  SAGA_INTERVAL_MS: '200',
  WEBHOOK_BASE_DELAY_MS: '200',
  INVENTORY_INITIAL_STOCK: '20',
};

/** A browser, a topology with a seeded catalogue, and a fresh browser context per test. */
class Shop {
  t!: TestTopology;
  edge!: Edge;
  browser!: Browser;
  books: Json[] = [];
  #next = 0;

  async start(label: string, env: Record<string, string>, books: number) {
    await buildStorefront();
    this.browser = await launchBrowser();
    this.t = await startTestTopology(label, { env });
    this.edge = this.t.edge;
    await this.t.seedCatalog(books);
    this.books = (await this.edge.call('GET', `/api/products?limit=${Math.min(books, 100)}&sort=title`)).body.items;
    assert.ok(this.books.length > 10, 'the catalogue was seeded');
    // Inventory learns the books from the catalogue's events, and the catalogue their availability from
    // inventory's. (Another topology on the same Kafka at the same time shares the services' consumer groups
    // and can take these events: then this times out.)
    const ids = this.books.map((b) => b.id).join(',');
    await eventually(
      async () => {
        const page = (await this.edge.call('GET', `/api/products?ids=${ids}`)).body;
        return page.items?.length === this.books.length && page.items.every((p: Json) => p.inStock);
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'every seeded book to be in stock in the catalogue (inventory and catalogue events)' },
    );
  }

  async stop() {
    await this.browser?.close();
    await this.t?.stop();
  }

  /** A book no other test of this suite buys. */
  book(): Json {
    const b = this.books[this.#next++];
    assert.ok(b, 'enough seeded books');
    return b;
  }

  /** Runs a test in a fresh context (no cookies, no storage) and keeps a screenshot of its last screen, failed or not. */
  async run(name: string, fn: (page: Page) => Promise<void>) {
    const context = await this.browser.newContext({ baseURL: this.edge.url, viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(60_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    try {
      await fn(page);
      assert.deepEqual(problems, [], 'no script errors and no CSP violations');
    } finally {
      await screenshot(page, name);
      await context.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What a reader does

const visible = (locator: Locator, timeout = UI_TIMEOUT_MS) => locator.first().waitFor({ state: 'visible', timeout });
const heading = (page: Page, name: string | RegExp) => page.getByRole('heading', { name });
const main = (page: Page) => page.locator('main');
/** A link of the site's main navigation (pages may link to the same place in their text too). */
const nav = (page: Page, name: string | RegExp) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: typeof name === 'string' });

async function signIn(page: Page, reader: Reader) {
  await visible(heading(page, 'Sign in'));
  await page.getByLabel('Email').fill(reader.email);
  await page.getByLabel('Password').fill(reader.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signInFromHome(page: Page, reader: Reader) {
  await page.goto('/signin');
  await signIn(page, reader);
  await visible(page.getByRole('button', { name: 'Sign out' }));
}

async function addToCart(page: Page, book: Json) {
  await page.goto(`/books/${book.id}`);
  await visible(heading(page, book.title));
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await visible(page.getByText('in your cart'));
}

async function fillNewAddress(page: Page) {
  await page.getByLabel('Full name').fill('Ada Reader');
  await page.getByLabel('Street and number').fill('Unter den Linden 1');
  await page.getByLabel('Postal code').fill('10117');
  await page.getByLabel('City').fill('Berlin');
  await page.getByLabel('Country').selectOption('DE');
}

/** Checkout with a new address and the cheapest shipping, up to the gateway's hosted page. */
async function checkoutToPaymentPage(page: Page) {
  await visible(heading(page, 'Checkout'));
  await fillNewAddress(page);
  await visible(page.getByRole('group', { name: /^Shipping to/ }).getByRole('radio'));
  await page.getByRole('button', { name: 'Place order and pay' }).click();
  await page.waitForURL((url) => url.pathname.startsWith('/pay/'), { timeout: 60_000 });
  await visible(heading(page, /^Pay /));
}

/** From a book to the payment page as a signed-in reader. */
async function buyToPaymentPage(page: Page, book: Json) {
  await addToCart(page, book);
  await page.goto('/checkout');
  await checkoutToPaymentPage(page);
}

const latestOrder = async (edge: Edge, reader: Reader): Promise<Json> => (await edge.call('GET', '/api/orders?limit=1', { token: reader.token })).body.items[0];

// ---------------------------------------------------------------------------------------------

describe('the storefront in Chromium, a process per service', { skip, timeout: 900_000 }, () => {
  const shop = new Shop();
  let refundReader: Reader | undefined;

  before(async () => {
    await shop.start('storefront', fastJobs, 80);
  });
  after(async () => {
    await shop.stop();
  });

  test('catalogue: search, category filter, paging, and a book page with its availability', async () => {
    const book = shop.book();
    await shop.run('catalogue', async (page) => {
      await page.goto('/');
      await visible(heading(page, 'Find your next book'));
      const books = page.getByRole('list', { name: 'Books' });
      await visible(books.getByRole('listitem'));
      await visible(books.getByText('In stock'));

      await page.getByRole('button', { name: 'Next page' }).click();
      await visible(page.getByText('Page 2'));
      await page.getByRole('button', { name: 'Previous page' }).click();
      await visible(page.getByText('Page 1'));

      await page.getByLabel('Search books').fill(book.isbn);
      await page.getByRole('button', { name: 'Search' }).click();
      await visible(heading(page, `Books matching “${book.isbn}”`));
      await visible(books.getByRole('link', { name: book.title, exact: true }));

      if (book.category) {
        await page.getByLabel('Category').selectOption(book.category.slug);
        await page.waitForURL((url) => url.searchParams.get('category') === book.category.slug);
        await visible(books.getByRole('link', { name: book.title, exact: true }));
      }

      await books.getByRole('link', { name: book.title, exact: true }).first().click();
      await visible(heading(page, book.title));
      await visible(main(page).getByText(/In stock|Only \d+ left/));
      await visible(main(page).getByText(`€${(book.price.amount / 100).toFixed(2)}`));
    });
  });

  test('happy path: a guest cart carried over at registration, checkout, payment, the confirmation; the cart is empty afterwards', async () => {
    const book = shop.book();
    await shop.run('happy-path', async (page) => {
      await addToCart(page, book);
      await nav(page, /^Cart/).click();
      await visible(heading(page, 'Your cart'));
      await visible(main(page).getByRole('link', { name: book.title, exact: true }));
      await page.getByRole('button', { name: 'Sign in to check out' }).click();
      await visible(page.getByText('Please sign in to check out.'));
      await page.getByRole('link', { name: 'Create an account' }).click();

      await visible(heading(page, 'Create an account'));
      await page.getByLabel('Your name').fill('Ada');
      await page.getByLabel('Email').fill(`ada-${Date.now()}@example.org`);
      await page.getByLabel('Password').fill('a long enough passphrase 42');
      await page.getByRole('button', { name: 'Create account' }).click();

      await visible(heading(page, 'Checkout'));
      const summary = page.getByRole('complementary', { name: 'Order summary' });
      await visible(summary.getByText(book.title), UI_TIMEOUT_MS);
      await checkoutToPaymentPage(page);
      await payOnHostedPage(page, cards.ok);

      await visible(heading(page, 'Thank you — your order is paid'), 60_000);
      await visible(main(page).getByRole('link', { name: book.title, exact: true }));
      await visible(main(page).getByText('We have received your payment'));
      await screenshot(page, 'happy-path-confirmation');

      // The cart service empties the cart once the order is paid.
      await nav(page, /^Cart/).click();
      await eventually(
        async () => {
          if (await page.getByText('Your cart is empty.').isVisible()) return true;
          await page.reload();
          await visible(heading(page, 'Your cart'));
          return page.getByText('Your cart is empty.').isVisible();
        },
        { timeoutMs: 30_000, intervalMs: 1_000, what: 'the cart to be empty' },
      );
      await visible(nav(page, /^Cart 0/));
    });
  });

  test('payment failure: a declined card shows the reason and a retry, and the retry pays', async () => {
    const book = shop.book();
    const reader = await shop.edge.reader('declined');
    await shop.run('declined-then-retry', async (page) => {
      await signInFromHome(page, reader);
      await buyToPaymentPage(page, book);
      await payOnHostedPage(page, cards.declined);
      await visible(page.getByText('Payment declined'));

      // The gateway's callback settles the attempt; then the reader goes back to the shop.
      await eventually(async () => (await latestOrder(shop.edge, reader))?.payment?.status === 'failed', { timeoutMs: 30_000, what: 'the attempt to fail' });
      await page.getByRole('link', { name: 'Return to Folio' }).click();
      await visible(heading(page, 'Your payment did not go through'), 60_000);
      await visible(main(page).getByText(/Reason:.*declined/i));

      await page.getByRole('button', { name: 'Try again' }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/pay/'), { timeout: 60_000 });
      await payOnHostedPage(page, cards.ok);
      await visible(heading(page, 'Thank you — your order is paid'), 60_000);
      await visible(main(page).getByRole('table', { name: 'Payment attempts' }).getByText('Failed'));
    });
  });

  test('cancel on the payment page: a cancellation message with a retry, and the retry pays', async () => {
    const book = shop.book();
    const reader = await shop.edge.reader('cancel');
    await shop.run('cancel-then-retry', async (page) => {
      await signInFromHome(page, reader);
      await buyToPaymentPage(page, book);
      await page.getByRole('button', { name: 'Cancel' }).click();

      await visible(heading(page, 'Payment cancelled'), 60_000);
      await visible(main(page).getByText('You cancelled the payment, so nothing was charged.'));
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.waitForURL((url) => url.pathname.startsWith('/pay/'), { timeout: 60_000 });
      await payOnHostedPage(page, cards.ok);
      await visible(heading(page, 'Thank you — your order is paid'), 60_000);
    });
  });

  test('refund: a paid order is refunded at the reader’s request, and the page says so', async () => {
    const book = shop.book();
    const reader = await shop.edge.reader('refund');
    refundReader = reader;
    await shop.run('refund', async (page) => {
      await signInFromHome(page, reader);
      await buyToPaymentPage(page, book);
      await payOnHostedPage(page, cards.ok);
      await visible(heading(page, 'Thank you — your order is paid'), 60_000);

      await page.getByRole('button', { name: 'Request refund' }).click();
      await page.getByRole('button', { name: /^Yes, refund €/ }).click();
      await visible(heading(page, 'Your order was refunded'), 60_000);
      await visible(main(page).getByText(/We have refunded €[\d.]+ to your card/));
      await visible(main(page).getByRole('list', { name: 'Order timeline' }).getByText('Refund requested'));
    });
  });

  test('notifications and my orders: what happened to the reader’s orders, with each order’s timeline', async () => {
    assert.ok(refundReader, 'the refund test ran');
    const reader = refundReader;
    await shop.run('notifications', async (page) => {
      await signInFromHome(page, reader);
      await nav(page, 'My orders').click();
      const orders = page.getByRole('list', { name: 'Your orders' });
      await visible(orders.getByText('Refunded'));
      await orders.getByText('Timeline').first().click();
      await visible(orders.getByRole('list', { name: /^Timeline of order/ }).getByText('Refunded'));

      await nav(page, 'Notifications').click();
      await eventually(
        async () => {
          if (
            await page
              .getByText(/refund of €/i)
              .first()
              .isVisible()
          )
            return true;
          await page.reload();
          await visible(heading(page, 'Notifications'));
          return page
            .getByText(/refund of €/i)
            .first()
            .isVisible();
        },
        { timeoutMs: 30_000, intervalMs: 1_000, what: 'the refund notification' },
      );
      await visible(page.getByText(/is paid/i));
    });
  });

  test('cart: quantities change, books are removed, and a changed price is shown and accepted before checkout', async () => {
    const [kept, removed] = [shop.book(), shop.book()];
    const admin = await shop.t.admin();
    await shop.run('cart', async (page) => {
      await addToCart(page, kept);
      await addToCart(page, removed);
      await page.goto('/cart');
      await visible(heading(page, 'Your cart'));
      const line = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: kept.title, exact: true }) });
      await line.getByLabel(`Quantity of ${kept.title}`).fill('3');
      await line.getByRole('button', { name: 'Update' }).click();
      await visible(page.getByText(/Subtotal \(4 books\)/));
      await page.getByRole('button', { name: `Remove ${removed.title}` }).click();
      await visible(page.getByText(/Subtotal \(3 books\)/));
      assert.equal(await main(page).getByRole('link', { name: removed.title, exact: true }).count(), 0);

      const newPrice = kept.price.amount + 100;
      const patched = await shop.edge.call('PATCH', `/api/products/${kept.id}`, { token: admin.token, body: { price: { amount: newPrice, currency: 'EUR' } } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await page.reload();
      await visible(page.getByText('Some prices have changed since you added these books'));
      await visible(page.getByText(`now €${(newPrice / 100).toFixed(2)}`));
      assert.equal(await page.getByRole('button', { name: 'Sign in to check out' }).isDisabled(), true, 'no checkout at the old price');
      await page.getByRole('button', { name: 'Accept the new prices' }).click();
      await visible(page.getByText(`Subtotal (3 books): €${((3 * newPrice) / 100).toFixed(2)}`));
      assert.equal(await page.getByRole('button', { name: 'Sign in to check out' }).isEnabled(), true);
    });
  });

  test('signed out: checkout and my orders send the reader to sign in, and back where they were going', async () => {
    const reader = await shop.edge.reader('signedout');
    await shop.run('signed-out', async (page) => {
      await page.goto('/orders');
      await page.waitForURL((url) => url.pathname === '/signin' && url.searchParams.get('next') === '/orders');
      await visible(page.getByText('Please sign in to see your orders.'));
      await signIn(page, reader);
      await visible(heading(page, 'My orders'));
      await visible(page.getByText('You have not ordered anything yet.'));

      await page.getByRole('button', { name: 'Sign out' }).click();
      await visible(page.getByRole('link', { name: 'Sign in' }));
      await page.goto('/checkout');
      await page.waitForURL((url) => url.pathname === '/signin' && url.searchParams.get('next') === '/checkout');
      await visible(page.getByText('Please sign in to check out.'));
      await signIn(page, reader);
      await page.waitForURL((url) => url.pathname === '/checkout');
      await visible(heading(page, 'Checkout'));
    });
  });

  test('a service that does not answer: a sentence and a retry button, never a blank page, a spinner forever or raw JSON', async () => {
    await shop.run('service-down', async (page) => {
      await shop.t.topology.kill('catalog');
      try {
        await page.goto('/');
        const alert = page.getByRole('alert').filter({ has: page.getByRole('button', { name: 'Try again' }) });
        await visible(alert);
        assert.doesNotMatch(await alert.innerText(), /[{}]|problem|urn:/, 'a sentence, not the problem document');
        await screenshot(page, 'service-down-error');
      } finally {
        await shop.t.topology.restart('catalog');
      }
      await page.getByRole('button', { name: 'Try again' }).click();
      await visible(page.getByRole('list', { name: 'Books' }).getByRole('listitem'));
    });
  });

  test('admin: stock levels with restock, and every reader’s orders; hidden from readers', async () => {
    const book = shop.book();
    const admin = await shop.t.admin();
    const before = (await shop.edge.call('GET', `/api/inventory/${book.id}`)).body;
    await shop.run('admin', async (page) => {
      await signInFromHome(page, admin);
      await nav(page, 'Stock').click();
      await visible(heading(page, 'Stock'));
      await page.getByLabel('Find a book').fill(book.isbn);
      await page.getByRole('button', { name: 'Search' }).click();
      const row = page.getByRole('row').filter({ hasText: book.title });
      await visible(row.getByRole('cell', { name: String(before.available), exact: true }));
      await row.getByLabel(`Copies to add for ${book.title}`).fill('5');
      await row.getByRole('button', { name: 'Restock' }).click();
      await visible(row.getByText(`Added 5; ${before.available + 5} available now.`));
      assert.equal((await shop.edge.call('GET', `/api/inventory/${book.id}`)).body.onHand, before.onHand + 5);

      await nav(page, 'All orders').click();
      await visible(heading(page, 'All orders'));
      await page.getByLabel('Status').selectOption('paid');
      const table = page.getByRole('table', { name: 'Orders' });
      await visible(table.getByText('Paid'));
    });
    // A reader sees no staff pages.
    const reader = await shop.edge.reader('curious');
    await shop.run('admin-hidden', async (page) => {
      await signInFromHome(page, reader);
      assert.equal(await nav(page, 'Stock').count(), 0);
      await page.goto('/admin/stock');
      await visible(heading(page, 'Not available'));
    });
  });
});

describe('the storefront in Chromium, with a short payment window', { skip, timeout: 600_000 }, () => {
  const shop = new Shop();

  before(async () => {
    await shop.start(
      'storefront_timeout',
      {
        ...fastJobs,
        PAYMENT_TIMEOUT_SECONDS: String(SHORT_WINDOW_SECONDS),
        PAYMENT_DEADLINE_GRACE_SECONDS: '1',
        WINDOW_SWEEP_INTERVAL_MS: '500',
      },
      20,
    );
  });
  after(async () => {
    await shop.stop();
  });

  test('timeout: the reader leaves the payment page unpaid, the window closes, and the order page explains the cancellation', async () => {
    const book = shop.book();
    const reader = await shop.edge.reader('slow');
    await shop.run('timeout', async (page) => {
      await signInFromHome(page, reader);
      await buyToPaymentPage(page, book);

      // The reader does nothing until the window has closed…
      const order = await latestOrder(shop.edge, reader);
      await eventually(async () => (await shop.edge.call('GET', `/api/orders/${order.id}`, { token: reader.token })).body.status === 'cancelled', {
        timeoutMs: (SHORT_WINDOW_SECONDS + 40) * 1000,
        intervalMs: 500,
        what: 'the order to be cancelled when its window closes',
      });
      // …then comes back to the page: it has expired, and its link leads back to the shop.
      await page.reload();
      await visible(heading(page, 'This payment page has expired'));
      await page.getByRole('link', { name: 'Return to Folio' }).click();

      await visible(heading(page, 'Your order was cancelled'), 60_000);
      await visible(main(page).getByText(`The order was not paid within ${SHORT_WINDOW_SECONDS} seconds of placing it, so we cancelled it.`));
      await visible(main(page).getByText('Nothing was charged, and the books are still in your cart.'));
      await visible(main(page).getByRole('table', { name: 'Payment attempts' }).getByText('Timed out'));
      const cart = (await shop.edge.call('GET', '/api/cart', { token: reader.token })).body;
      assert.deepEqual(
        cart.items.map((i: Json) => i.productId),
        [book.id],
        'the cart is kept',
      );
    });
  });
});
