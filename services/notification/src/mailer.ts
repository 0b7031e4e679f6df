/**
 * E-mail over SMTP with nodemailer: one message per notification, with a Message-ID derived from the
 * notification id, so a mail sent twice (see mail.sender.ts) is recognisably the same message.
 */
import { createTransport } from 'nodemailer';

export interface OutgoingMail {
  notificationId: string;
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** Why a send failed, and whether trying again could help. */
export class MailError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean, cause: unknown) {
    super(message, { cause });
    this.name = 'MailError';
    this.permanent = permanent;
  }
}

/** The domain of the From address ("Folio <orders@folio.example>" → folio.example), for Message-IDs. */
export function domainOf(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return m?.[1] ?? 'folio.invalid';
}

/** `<notification-<id>@<domain>>`: stable for one notification, whoever sends it and however often. */
export const messageIdOf = (notificationId: string, domain: string): string => `<notification-${notificationId}@${domain}>`;

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  permanent?: boolean;
}

/**
 * Only a recipient the server refuses for good (5xx on RCPT TO), or an address nodemailer cannot use,
 * is permanent. Anything else (a connection refused, a 4xx, a bad login) may pass later, or once the
 * operator fixed the configuration, so it is retried.
 */
function isPermanent(err: SmtpError): boolean {
  if (err.code !== 'EENVELOPE') return false;
  if (err.command === 'RCPT TO') return err.permanent === true;
  return err.command === 'API' && /recipient/i.test(err.message);
}

export interface MailerOptions {
  /** smtp://[user:password@]host:port, or smtps:// for TLS from the first byte. */
  url: string;
  from: string;
  /** Bounds each step of talking to the server, so a send that hangs ends well within the sender's lease. */
  timeoutMs?: number;
}

export function createMailer(opts: MailerOptions): Mailer {
  const timeout = opts.timeoutMs ?? 15_000;
  // Not pooled: each mail opens its own connection, so a connection broken by an outage is never reused.
  const transport = createTransport({ url: opts.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout * 2 });
  const domain = domainOf(opts.from);
  return {
    async send(mail) {
      try {
        await transport.sendMail({
          from: opts.from,
          // An address object, not a string: nodemailer never reads it as a list of addresses.
          to: { name: '', address: mail.to },
          subject: mail.subject,
          text: mail.text,
          messageId: messageIdOf(mail.notificationId, domain),
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
      } catch (err) {
        const e = err as SmtpError;
        const reply = e.responseCode ? ` (${e.responseCode}${e.command ? ` on ${e.command}` : ''})` : '';
        throw new MailError(`${e.message}${reply}`.slice(0, 1000), isPermanent(e), err);
      }
    },
    close() {
      transport.close();
    },
  };
}
