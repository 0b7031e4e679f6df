/**
 * The hosted payment page, as plain server-rendered HTML: a real form that works without JavaScript,
 * labelled fields, errors tied to their field (aria-describedby) and announced (role="alert"), and a
 * little inline CSS. Every value from a request or a session is escaped.
 */
import type { CardField, CardFieldError } from './cards.ts';
import { formatAmount } from './money.ts';
import type { LineItem } from './store.ts';

export interface PageSession {
  id: string;
  amountTotal: number;
  currency: string;
  /** Folio's order reference. */
  clientReferenceId: string | null;
  lineItems: LineItem[];
  cancelUrl: string | null;
}

export interface FormState {
  /** Per-field errors of a malformed card (400). */
  errors?: CardFieldError[];
  /** The issuer's decline message (402). */
  decline?: string;
  /** What the customer typed for the expiry, shown again (the card number and CVC never are). */
  expiry?: string;
  /** random mode: the test-card hints would mislead. */
  randomMode?: boolean;
}

const MERCHANT = 'Folio';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;background:#f4f4f1}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #d8d8d2;border-radius:.5rem}
.merchant{margin:0;font-weight:600;color:#4a4a45}
h1{margin:.25rem 0 1rem;font-size:1.75rem}
.reference{margin:0 0 1rem;color:#4a4a45}
table{width:100%;border-collapse:collapse;margin-bottom:1.25rem;font-size:.95rem}
th,td{padding:.35rem 0;border-bottom:1px solid #e6e6e0;text-align:left}
td.num,th.num{text-align:right}
label{display:block;font-weight:600;margin-top:1rem}
input{width:100%;padding:.6rem;font:inherit;border:1px solid #767670;border-radius:.3rem}
input:focus,button:focus,a:focus{outline:3px solid #1d5fd6;outline-offset:2px}
input[aria-invalid=true]{border-color:#b3261e;border-width:2px}
.row{display:flex;gap:1rem}.row>div{flex:1}
.hint{margin:.2rem 0 0;font-size:.875rem;color:#4a4a45}
.field-error{margin:.25rem 0 0;color:#b3261e;font-weight:600}
.alert{margin:0 0 1rem;padding:.75rem;border-left:4px solid #b3261e;background:#fbeaea}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{padding:.7rem 1.2rem;font:inherit;font-weight:600;border-radius:.3rem;border:1px solid #1d5fd6;background:#1d5fd6;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1d5fd6}
.test{margin-top:1.5rem;font-size:.875rem;color:#4a4a45}
code{font-size:.875rem}
`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function field(name: CardField, label: string, attrs: string, state: FormState, hint?: string, value?: string): string {
  const error = state.errors?.find((e) => e.field === name);
  const describedBy = [hint ? `${name}-hint` : '', error ? `${name}-error` : ''].filter(Boolean).join(' ');
  return `<div>
<label for="${name}">${label}</label>
<input id="${name}" name="${name}" ${attrs}${value ? ` value="${escapeHtml(value)}"` : ''} required${error ? ' aria-invalid="true"' : ''}${describedBy ? ` aria-describedby="${describedBy}"` : ''}>
${hint ? `<p class="hint" id="${name}-hint">${hint}</p>` : ''}${error ? `<p class="field-error" id="${name}-error">${escapeHtml(error.message)}</p>` : ''}
</div>`;
}

function summary(session: PageSession): string {
  const total = formatAmount(session.amountTotal, session.currency);
  const rows = session.lineItems
    .map(
      (item) =>
        `<tr><td>${escapeHtml(item.name)}</td><td class="num">${item.quantity}</td><td class="num">${escapeHtml(formatAmount(item.amount_total, item.currency))}</td></tr>`,
    )
    .join('\n');
  return `<p class="merchant">${MERCHANT}</p>
<h1>Pay <span>${escapeHtml(total)}</span></h1>
${session.clientReferenceId ? `<p class="reference">Order reference: <strong>${escapeHtml(session.clientReferenceId)}</strong></p>` : ''}
<table>
<caption class="hint" style="text-align:left">What you are paying for</caption>
<thead><tr><th scope="col">Item</th><th scope="col" class="num">Qty</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><th scope="row" colspan="2">Total</th><td class="num"><strong>${escapeHtml(total)}</strong></td></tr></tfoot>
</table>`;
}

/** The payment form; again with the errors (400) or the decline (402) when a card was refused. */
export function paymentPage(session: PageSession, state: FormState = {}): string {
  const total = formatAmount(session.amountTotal, session.currency);
  const problems = state.errors?.length
    ? `<div class="alert" role="alert"><p style="margin:0">Check the card details: ${state.errors.length === 1 ? 'one field needs' : `${state.errors.length} fields need`} attention.</p></div>`
    : '';
  const decline = state.decline
    ? `<div class="alert" role="alert"><p style="margin:0"><strong>Payment declined.</strong> ${escapeHtml(state.decline)} Try another card.</p></div>`
    : '';
  // After a decline the reader may give up: the way back to the shop (the session stays open, as on Stripe).
  const back = state.decline && session.cancelUrl ? `<p><a href="${escapeHtml(session.cancelUrl)}">Return to ${MERCHANT}</a></p>\n` : '';
  const hints = state.randomMode
    ? '<p class="test">Test mode (random outcomes): any valid card number may be accepted or declined, as the simulator draws it.</p>'
    : `<p class="test">Test mode: <code>4242 4242 4242 4242</code> is accepted; <code>4000 0000 0000 0002</code> is declined,
<code>4000 0000 0000 9995</code> has insufficient funds, <code>4000 0000 0000 0069</code> is expired, <code>4000 0000 0000 0119</code> fails to process.
Any future expiry date and any 3-digit CVC.</p>`;
  return layout(
    `Pay ${MERCHANT} — ${total}`,
    `${summary(session)}
${decline}${problems}
<form method="post" action="${escapeHtml(session.id)}" novalidate>
${field('cardNumber', 'Card number', 'type="text" inputmode="numeric" autocomplete="cc-number" maxlength="23" spellcheck="false"', state, 'The 12 to 19 digits on the front of the card.')}
<div class="row">
${field('expiry', 'Expiry date', 'type="text" inputmode="numeric" autocomplete="cc-exp" maxlength="7" placeholder="MM/YY"', state, 'MM/YY', state.expiry)}
${field('cvc', 'Security code (CVC)', 'type="text" inputmode="numeric" autocomplete="cc-csc" maxlength="4"', state, '3 or 4 digits.')}
</div>
<div class="actions">
<button type="submit" name="action" value="pay">Pay ${escapeHtml(total)}</button>
${session.cancelUrl ? '<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>' : ''}
</div>
</form>
${back}${hints}`,
  );
}

/** 410: the session can no longer be paid. */
export function closedPage(session: PageSession, kind: 'expired' | 'paid', returnUrl: string | null): string {
  const title = kind === 'expired' ? 'This payment page has expired' : 'This order is already paid';
  const text =
    kind === 'expired'
      ? 'The time to pay this order has run out, or the payment was cancelled. Nothing was charged on this page.'
      : 'The payment for this order has already been made; you will not be charged again.';
  return layout(
    `${title} — ${MERCHANT}`,
    `<p class="merchant">${MERCHANT}</p>
<h1>${title}</h1>
${session.clientReferenceId ? `<p class="reference">Order reference: <strong>${escapeHtml(session.clientReferenceId)}</strong></p>` : ''}
<p>${text}</p>
${returnUrl ? `<p><a href="${escapeHtml(returnUrl)}">Return to ${MERCHANT}</a></p>` : ''}`,
  );
}

/** 404 and other errors that are not about a session. */
export function messagePage(title: string, text: string): string {
  return layout(`${title} — ${MERCHANT}`, `<p class="merchant">${MERCHANT}</p>\n<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`);
}
