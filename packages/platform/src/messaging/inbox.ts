import type { Tx } from '../db.ts';

/**
 * Records that `consumer` applies `messageId` in this transaction. False means it was already
 * applied (or is being applied by a concurrent transaction, which this waits for): skip it.
 */
export async function claimMessage(tx: Tx, consumer: string, messageId: string): Promise<boolean> {
  const { rowCount } = await tx.query('INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [consumer, messageId]);
  return rowCount === 1;
}
