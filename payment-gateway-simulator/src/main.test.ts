/** The simulator as its own process: configuration from the environment, exit 1 naming a bad variable, clean shutdown. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@folio/platform/testing';
import Stripe from 'stripe';
import { simulatorConfig } from './main.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('main', () => {
  test('every variable is described, for the README table', () => {
    for (const [name, spec] of Object.entries(simulatorConfig)) assert.ok(spec.description.length >= 5, name);
    assert.deepEqual(Object.keys(simulatorConfig), [
      'PORT',
      'HOST',
      'PUBLIC_URL',
      'SIMULATOR_API_KEY',
      'WEBHOOK_URL',
      'WEBHOOK_SECRET',
      'OUTCOME_MODE',
      'RANDOM_SUCCESS_RATE',
      'RANDOM_SEED',
      'WEBHOOK_MAX_ATTEMPTS',
      'WEBHOOK_BASE_DELAY_MS',
      'LOG_LEVEL',
    ]);
    assert.equal(simulatorConfig.PORT.fallback?.(), 12111);
    assert.equal(simulatorConfig.SIMULATOR_API_KEY.fallback?.(), 'sk_test_folio');
    assert.equal(simulatorConfig.WEBHOOK_SECRET.fallback?.(), 'whsec_folio_dev');
    assert.equal(simulatorConfig.RANDOM_SUCCESS_RATE.fallback?.(), 0.8);
  });

  test('the README’s table lists every variable as the specs describe it', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const [name, spec] of Object.entries(simulatorConfig)) {
      const fallback = spec.fallback?.();
      const row = `| \`${name}\` | ${fallback === undefined ? '—' : `\`${String(fallback)}\``} | ${spec.description} |`;
      assert.ok(readme.includes(row), `README row for ${name}: ${row}`);
    }
  });

  test('a bad variable stops it with exit 1, naming the variable', async () => {
    const cases = [
      ['PORT', 'http'],
      ['RANDOM_SUCCESS_RATE', '1.5'],
      ['OUTCOME_MODE', 'lucky'],
      ['WEBHOOK_URL', 'not a url'],
      ['WEBHOOK_MAX_ATTEMPTS', '0'],
    ] as const;
    await Promise.all(
      cases.map(async ([variable, value]) => {
        const p = run({ PORT: '0', [variable]: value });
        assert.equal(await p.exited, 1, variable);
        assert.match(p.err(), new RegExp(`payment-gateway-simulator cannot start: Invalid configuration:\\n  - ${variable}: `));
      }),
    );
  });

  test('starts from the environment, serves the SDK and the page, and stops cleanly on SIGTERM', async () => {
    const p = run({ PORT: '0', SIMULATOR_API_KEY: 'sk_test_process', PUBLIC_URL: 'http://payments.folio.test', LOG_LEVEL: 'info' });
    try {
      const url = await eventually(() => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(p.out())?.[1], { what: 'the start-up line', timeoutMs: 20_000 });
      assert.equal((await fetch(`${url}/health`)).status, 200);
      const stripe = new Stripe('sk_test_process', { host: '127.0.0.1', port: Number(new URL(url).port), protocol: 'http', maxNetworkRetries: 0 });
      const session = await stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price_data: { currency: 'usd', unit_amount: 1999, product_data: { name: 'Folio order' } }, quantity: 1 }],
        success_url: 'http://folio.test/ok',
      });
      assert.equal(session.url, `http://payments.folio.test/pay/${session.id}`);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0);
    assert.match(p.out(), /"msg":"shut down"/);
  });
});
