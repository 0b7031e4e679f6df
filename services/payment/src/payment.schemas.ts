/** TypeBox schemas of the payment APIs. The internal contract (open, refund, the view) lives in @folio/contracts/internal. */
import { OpenPaymentRequest, PaymentView, RefundRequest } from '@folio/contracts/internal';
import { Type } from 'typebox';

export { OpenPaymentRequest, PaymentView, RefundRequest };

export const PaymentParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'The payment id' }) });

export const PaymentsQuery = Type.Object(
  { orderId: Type.String({ format: 'uuid', description: 'Every attempt of this order, first attempt first' }) },
  { additionalProperties: false },
);

/** The gateway appends the session id to the success URL; it is only a hint (the payment's own session is what counts). */
export const ReturnQuery = Type.Object({ session_id: Type.Optional(Type.String({ maxLength: 255 })) });

export const PaymentViews = Type.Array(PaymentView);

export const WebhookAnswer = Type.Object({ received: Type.Boolean() });
