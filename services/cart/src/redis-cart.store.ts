/**
 * Active carts in Redis (distributed mode), their history in PostgreSQL.
 *
 * Keys, per owner (`u:<user id>` or `g:<sha-256 of the guest's token>`, so a dump holds no usable token):
 *   cart:<owner>         hash  id, createdAt                      (the cart's meta)
 *   cart:<owner>:items   hash  productId → {"quantity","unitPrice","currency","addedAt","title"}
 *   cart:<owner>:lock    string, SET NX PX: the cart's change lock
 * Both hashes get EXPIRE CART_TTL_SECONDS on every read and write (sliding expiry), in the same
 * MULTI as the read or write. Redis is the truth for what is in a cart; the history row is written
 * on every change (expiry, lines snapshot), and the sweep asks Redis before marking a row abandoned,
 * because a read renews the cart without touching PostgreSQL.
 *
 * Locking: a change takes the cart's lock (SET NX PX, released with a compare-and-delete script),
 * reads, applies the change in memory and writes it in one MULTI. Just before writing it re-checks and
 * extends the lock (compare-and-PEXPIRE), so a holder that stalled past the lock's lifetime aborts
 * instead of overwriting a newer change. A merge holds the guest cart's lock and then the account's,
 * and deletes the guest cart in the same MULTI that fills the account's, so the guest's lines are
 * added exactly once however many merges race.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '@folio/platform/db';
import { withTransaction } from '@folio/platform/db';
import type { Logger } from '@folio/platform/log';
import { ProblemError, problems } from '@folio/platform/problem';
import type { ChainableCommander, Redis } from 'ioredis';
import type { CartChange, CartLine, CartOwner, CartStore, Lines, MergeResult, MergeRule, StoredCart } from './cart.store.ts';
import { snapshotOf, sortedLines } from './cart.store.ts';
import { abandonActiveOf, abandonCarts, claimExpired, convertActiveOf, convertCart, extendExpiries, insertCart, touchCart } from './cart-history.repository.ts';

const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

const metaKey = (owner: string) => `cart:${owner}`;
const itemsKey = (owner: string) => `cart:${owner}:items`;
const lockKey = (owner: string) => `cart:${owner}:lock`;

interface Meta {
  id: string;
  createdAt: string;
}

interface Loaded {
  meta: Meta | undefined;
  lines: Lines;
}

/** A Redis failure is our outage: a 503 the caller can retry, not a 500. */
function unavailable(cause: unknown): ProblemError {
  if (cause instanceof ProblemError) return cause;
  return new ProblemError(503, 'Carts cannot be reached right now; try again shortly.', {
    type: 'urn:folio:problem:unavailable',
    headers: { 'retry-after': '2' },
    cause,
  });
}

const viaRedis = <T>(p: Promise<T>): Promise<T> =>
  p.catch((err: unknown) => {
    throw unavailable(err);
  });

type ExecResult = Array<[Error | null, unknown]> | null;

function resultsOf(result: ExecResult): unknown[] {
  if (!result) throw unavailable(new Error('Redis transaction was aborted'));
  return result.map(([err, value]) => {
    if (err) throw unavailable(err);
    return value;
  });
}

const cloneLines = (lines: Lines): Lines => new Map([...lines].map(([id, l]) => [id, { ...l, unitPrice: { ...l.unitPrice } }]));

function encodeLine(l: CartLine): string {
  return JSON.stringify({ quantity: l.quantity, unitPrice: l.unitPrice.amount, currency: l.unitPrice.currency, addedAt: l.addedAt, title: l.title });
}

function decodeLine(productId: string, raw: string): CartLine | undefined {
  try {
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (
      !Number.isSafeInteger(v.quantity) ||
      !Number.isSafeInteger(v.unitPrice) ||
      typeof v.currency !== 'string' ||
      typeof v.addedAt !== 'string' ||
      typeof v.title !== 'string'
    ) {
      return undefined;
    }
    return {
      productId,
      title: v.title,
      quantity: v.quantity as number,
      unitPrice: { amount: v.unitPrice as number, currency: v.currency },
      addedAt: v.addedAt,
    };
  } catch {
    return undefined;
  }
}

export function createRedisCartStore(opts: { redis: Redis; pool: Pool; ttlSeconds: number; log: Logger }): CartStore {
  const { redis, pool, ttlSeconds, log } = opts;

  function decode(owner: CartOwner, meta: Record<string, string>, items: Record<string, string>): Loaded {
    if (!meta.id || !meta.createdAt) return { meta: undefined, lines: new Map() };
    const lines: Lines = new Map();
    for (const [productId, raw] of Object.entries(items)) {
      const line = decodeLine(productId, raw);
      if (line) lines.set(productId, line);
      else log.warn({ cart: meta.id, owner: owner.kind, productId }, 'unreadable cart line ignored');
    }
    return { meta: { id: meta.id, createdAt: meta.createdAt }, lines };
  }

  async function load(owners: CartOwner[]): Promise<Loaded[]> {
    const pipeline = redis.pipeline();
    for (const o of owners) pipeline.hgetall(metaKey(o.key)).hgetall(itemsKey(o.key));
    const values = resultsOf((await viaRedis(pipeline.exec())) as ExecResult);
    return owners.map((o, i) => decode(o, values[2 * i] as Record<string, string>, values[2 * i + 1] as Record<string, string>));
  }

  /** Holds the owners' locks, taken in the order given, while fn runs; `confirm` re-checks and extends them. */
  async function withLocks<T>(owners: CartOwner[], fn: (confirm: () => Promise<void>) => Promise<T>): Promise<T> {
    const token = randomBytes(16).toString('base64url');
    const held: string[] = [];
    try {
      for (const o of owners) {
        const key = lockKey(o.key);
        const deadline = Date.now() + LOCK_WAIT_MS;
        let pause = 5;
        while ((await viaRedis(redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX'))) !== 'OK') {
          if (Date.now() > deadline) throw problems.unavailable('This cart is busy with another change; try again in a moment.', 1);
          await sleep(pause + Math.random() * pause);
          pause = Math.min(pause * 2, 50);
        }
        held.push(key);
      }
      const confirm = async () => {
        for (const key of held) {
          const kept = await viaRedis(redis.eval(EXTEND_SCRIPT, 1, key, token, LOCK_TTL_MS));
          if (kept !== 1) throw problems.unavailable('This cart changed while the change was being made; try again.', 1);
        }
      };
      return await fn(confirm);
    } finally {
      for (const key of held.reverse()) {
        await redis.eval(RELEASE_SCRIPT, 1, key, token).catch((err: unknown) => log.warn({ err }, 'cart lock not released; it expires by itself'));
      }
    }
  }

  /** Queues the cart's write: meta (new cart), changed and removed lines, renewed expiry. */
  function queueWrite(multi: ChainableCommander, owner: CartOwner, meta: Meta, fresh: boolean, before: Lines, after: Lines): void {
    const items = itemsKey(owner.key);
    if (fresh) multi.del(items).hset(metaKey(owner.key), { id: meta.id, createdAt: meta.createdAt });
    const removed = [...before.keys()].filter((id) => !after.has(id));
    if (removed.length > 0) multi.hdel(items, ...removed);
    const changed = [...after.values()].filter((l) => encodeLine(l) !== (before.get(l.productId) ? encodeLine(before.get(l.productId)!) : undefined));
    if (changed.length > 0) multi.hset(items, Object.fromEntries(changed.map((l) => [l.productId, encodeLine(l)])));
    multi.expire(metaKey(owner.key), ttlSeconds).expire(items, ttlSeconds);
  }

  /** The meta of a cart about to be created, with its history row opened (ending a stale one Redis already expired). */
  async function open(owner: CartOwner, expiresAt: Date): Promise<Meta> {
    const meta = { id: randomUUID(), createdAt: new Date().toISOString() };
    await withTransaction(pool, async (tx) => {
      await abandonActiveOf(tx, owner.key);
      await insertCart(tx, { id: meta.id, owner, expires: { at: expiresAt } }, { ifNoActive: false });
    });
    return meta;
  }

  const expiryFromNow = () => new Date(Date.now() + ttlSeconds * 1000);
  const stored = (meta: Meta, expiresAt: Date, lines: Lines): StoredCart => ({
    id: meta.id,
    createdAt: meta.createdAt,
    expiresAt: expiresAt.toISOString(),
    lines: sortedLines(lines.values()),
  });

  const store: CartStore = {
    kind: 'redis',

    async read(owner) {
      const meta = metaKey(owner.key);
      const items = itemsKey(owner.key);
      const values = resultsOf(
        (await viaRedis(redis.multi().hgetall(meta).hgetall(items).expire(meta, ttlSeconds).expire(items, ttlSeconds).exec())) as ExecResult,
      );
      const loaded = decode(owner, values[0] as Record<string, string>, values[1] as Record<string, string>);
      return loaded.meta ? stored(loaded.meta, expiryFromNow(), loaded.lines) : undefined;
    },

    async update(owner: CartOwner, change: CartChange, { create }: { create: boolean }) {
      return withLocks([owner], async (confirm) => {
        const [current] = await load([owner]);
        if (!current?.meta && !create) return undefined;
        const before = current?.meta ? current.lines : new Map<string, CartLine>();
        const lines = cloneLines(before);
        change(lines);
        const expiresAt = expiryFromNow();
        const meta = current?.meta ?? (await open(owner, expiresAt));
        await confirm();
        const multi = redis.multi();
        queueWrite(multi, owner, meta, !current?.meta, before, lines);
        resultsOf((await viaRedis(multi.exec())) as ExecResult);
        await touchCart(pool, meta.id, { at: expiresAt }, snapshotOf(lines.values()));
        return stored(meta, expiresAt, lines);
      });
    },

    async merge<R>(guest: CartOwner, user: CartOwner, rule: MergeRule<R>): Promise<MergeResult<R | undefined>> {
      return withLocks([guest, user], async (confirm) => {
        const [from, into] = await load([guest, user]);
        // No live guest cart: an earlier merge took it (or it expired). Nothing to do; answer the account's cart.
        if (!from?.meta) return { cart: await store.read(user), outcome: undefined };
        const before = into?.meta ? into.lines : new Map<string, CartLine>();
        const lines = cloneLines(before);
        const outcome = rule(lines, cloneLines(from.lines));
        const expiresAt = expiryFromNow();
        const meta = into?.meta ?? (await open(user, expiresAt));
        await confirm();
        const multi = redis.multi();
        queueWrite(multi, user, meta, !into?.meta, before, lines);
        multi.del(metaKey(guest.key), itemsKey(guest.key));
        resultsOf((await viaRedis(multi.exec())) as ExecResult);
        await withTransaction(pool, async (tx) => {
          await convertCart(tx, from.meta!.id, { mergedInto: meta.id }, snapshotOf(from.lines.values()));
          await touchCart(tx, meta.id, { at: expiresAt }, snapshotOf(lines.values()));
        });
        return { cart: stored(meta, expiresAt, lines), outcome };
      });
    },

    async convert(tx, owner, orderId) {
      return withLocks([owner], async () => {
        const [current] = await load([owner]);
        const converted = await convertActiveOf(tx, owner.key, orderId, current?.meta ? snapshotOf(current.lines.values()) : undefined);
        // Deleted before the caller commits: should the commit fail, the redelivered event finds no cart and only converts the history.
        if (current?.meta) await viaRedis(redis.del(metaKey(owner.key), itemsKey(owner.key)));
        return converted > 0 || current?.meta !== undefined;
      });
    },

    async sweepExpired(limit) {
      return withTransaction(pool, async (tx) => {
        const rows = await claimExpired(tx, limit);
        if (rows.length === 0) return 0;
        const pipeline = redis.pipeline();
        for (const r of rows) pipeline.hget(metaKey(r.ownerKey), 'id').pttl(metaKey(r.ownerKey));
        const values = resultsOf((await viaRedis(pipeline.exec())) as ExecResult);
        const now = Date.now();
        const alive: Array<{ id: string; expiresAt: Date }> = [];
        const gone: Array<{ id: string }> = [];
        rows.forEach((r, i) => {
          const liveId = values[2 * i] as string | null;
          const pttl = values[2 * i + 1] as number;
          // Still this cart (not a newer one of the same owner), and renewed by a read since its last write.
          if (liveId === r.id && pttl > 0) alive.push({ id: r.id, expiresAt: new Date(now + pttl) });
          else gone.push({ id: r.id });
        });
        await extendExpiries(tx, alive);
        await abandonCarts(tx, gone);
        return rows.length;
      });
    },
  };
  return store;
}
