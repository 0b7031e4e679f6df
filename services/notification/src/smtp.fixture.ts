/**
 * A real SMTP server for tests (smtp-server from npm) that records what arrives, and can be taken
 * down, brought back on the same port, or made to refuse mail for a while. Test code only.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** RCPT TO of the SMTP envelope: where the server was asked to deliver it. */
  envelopeTo: string[];
  messageId: string;
  from: string;
  to: string;
  subject: string;
  /** The decoded plain-text body. */
  text: string;
  headers: Map<string, string>;
}

/**
 * accept: takes every mail. defer: answers 451 (try later) to every recipient. reject: answers 550
 * (no such mailbox, for good) to every recipient.
 */
export type SmtpMode = 'accept' | 'defer' | 'reject';

export interface TestSmtp {
  url: string;
  received: ReceivedMail[];
  /** RCPT TO commands answered with a refusal. */
  refused: number;
  mode: SmtpMode;
  /** Listens (again) on the port of url. */
  start(): Promise<void>;
  /** Stops listening: connections are refused, as when the server is down. */
  stop(): Promise<void>;
  /** How many times each Message-ID arrived. */
  countsByMessageId(): Map<string, number>;
}

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** Starts the server, listening unless `down` (then start() brings it up later). */
export async function startTestSmtp(opts: { down?: boolean; mode?: SmtpMode } = {}): Promise<TestSmtp & { close(): Promise<void> }> {
  const port = await freePort();
  let server: SMTPServer | undefined;
  const smtp = {
    url: `smtp://127.0.0.1:${port}`,
    received: [] as ReceivedMail[],
    refused: 0,
    mode: opts.mode ?? ('accept' as SmtpMode),

    async start() {
      if (server) return;
      const s = new SMTPServer({
        // Plain SMTP on localhost, no login: nodemailer must not try to upgrade to TLS with a self-signed certificate.
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onRcptTo(_address, _session, callback) {
          if (smtp.mode === 'accept') return callback();
          smtp.refused++;
          callback(smtp.mode === 'defer' ? smtpError('Mailbox busy, try again later', 451) : smtpError('No such mailbox here', 550));
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            smtp.received.push(
              parseMail(
                Buffer.concat(chunks).toString('utf8'),
                session.envelope.rcptTo.map((r) => r.address),
              ),
            );
            callback();
          });
        },
      });
      s.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        s.server.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },

    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },

    countsByMessageId() {
      const counts = new Map<string, number>();
      for (const m of smtp.received) counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
      return counts;
    },

    close() {
      return smtp.stop();
    },
  };
  if (!opts.down) await smtp.start();
  return smtp;
}

// ---------------------------------------------------------------------------------------------
// Reading a message as a mail client would: unfolded headers, RFC 2047 encoded words, and the body's
// Content-Transfer-Encoding (quoted-printable or base64) undone.

export function parseMail(raw: string, envelopeTo: string[]): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
        : Buffer.from(body, 'utf8');
  return {
    envelopeTo,
    messageId: headers.get('message-id') ?? '',
    from: headers.get('from') ?? '',
    to: headers.get('to') ?? '',
    subject: headers.get('subject') ?? '',
    text: bytes.toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, ''),
    headers,
  };
}

export function decodeQuotedPrintable(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(out);
}

/** "=?UTF-8?Q?Caf=C3=A9?= =?UTF-8?B?...?=" → text (the space between two encoded words is dropped, RFC 2047). */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')).toString('utf8'),
    );
}
