/**
 * Placing an order, as a saga of steps (steps/*.ts): check the address, read the cart, price the books,
 * quote the shipping, compute the tax, reserve the stock, create the order. Any failure before the
 * order exists undoes what was done, last first (the reservation is released); creating the order is
 * the point of no return, after which the payment is opened — here, or by the saga driver.
 *
 * Run with an order id chosen up front (the Idempotency-Key record holds it), so a checkout that is run
 * again after a crash reserves and creates the same order instead of a second one.
 */
import type { Address } from '@folio/contracts/address';
import type { OrderContext } from './order.context.ts';
import { findOrder } from './order.repository.ts';
import { createOrderStep } from './steps/create-order.ts';
import { priceLinesStep } from './steps/price-lines.ts';
import { quoteShippingStep } from './steps/quote-shipping.ts';
import { readCartStep } from './steps/read-cart.ts';
import { reserveStockStep } from './steps/reserve-stock.ts';
import { Saga } from './steps/step.ts';
import { validateAddressStep } from './steps/validate-address.ts';
import { taxOfLines, taxRateOf } from './tax.ts';

export interface CheckoutInput {
  userId: string;
  /** Where the reader is told about the order: the e-mail in their access token, if it has one. */
  email: string | null;
  /** The reader's Authorization header, to read their cart on their behalf. */
  authorization: string;
  shippingAddress: Address;
  shippingMethod: string;
}

/** Runs the checkout for `orderId` up to the created order; resolves once the order exists. */
export async function runCheckout(ctx: OrderContext, orderId: string, input: CheckoutInput): Promise<void> {
  if (await findOrder(ctx.pool, orderId)) return; // run before, up to the order: only the payment may be left to do
  const saga = new Saga(ctx);
  try {
    const address = await saga.run(validateAddressStep, input.shippingAddress);
    const items = await saga.run(readCartStep, { authorization: input.authorization });
    const priced = await saga.run(priceLinesStep, items);
    const shipping = await saga.run(quoteShippingStep, {
      country: address.country,
      method: input.shippingMethod,
      items: priced.items,
      subtotal: priced.subtotal,
      currency: priced.currency,
    });
    const rate = await taxRateOf(ctx.pool, address.country);
    const tax = taxOfLines(
      priced.lines.map((l) => l.lineTotal),
      rate.booksBp,
    );

    const { paymentTimeoutSeconds, reservationMarginSeconds } = ctx.settings;
    const deadline = new Date(Date.now() + paymentTimeoutSeconds * 1000);
    const reservation = await saga.run(reserveStockStep, {
      orderId,
      lines: priced.lines,
      expiresAt: new Date(deadline.getTime() + reservationMarginSeconds * 1000),
    });
    // A checkout run again gets its first reservation back: the payment window must not outlast it.
    const reservedUntil = Date.parse(reservation.expiresAt) - reservationMarginSeconds * 1000;
    const paymentDeadline = Number.isNaN(reservedUntil) || reservedUntil >= deadline.getTime() ? deadline : new Date(reservedUntil);

    await saga.run(createOrderStep, {
      orderId,
      userId: input.userId,
      email: input.email,
      currency: priced.currency,
      lines: priced.lines.map((l) => ({ ...l, taxRateBp: rate.booksBp })),
      subtotal: priced.subtotal,
      tax: tax.total,
      shipping,
      total: priced.subtotal + tax.total + shipping,
      shippingAddress: address,
      shippingMethod: input.shippingMethod,
      paymentDeadline,
    });
    saga.commit();
  } catch (err) {
    await saga.compensate();
    throw err;
  }
}
