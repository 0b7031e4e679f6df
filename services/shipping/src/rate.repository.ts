/** All SQL of the shipping service: reads of the rate table (migrations/0001_shipping.sql). */
import type { Queryable } from '@folio/platform/db';

export interface Rate {
  zoneId: string;
  methodId: string;
  methodName: string;
  sortOrder: number;
  currency: string;
  baseMinor: number;
  perExtraItemMinor: number;
  includedGramsPerItem: number;
  perExtraKgMinor: number;
  minDays: number;
  maxDays: number;
  freeShippingEligible: boolean;
}

interface RateRow {
  zone_id: string;
  method_id: string;
  method_name: string;
  sort_order: number;
  currency: string;
  base_minor: number;
  per_extra_item_minor: number;
  included_grams_per_item: number;
  per_extra_kg_minor: number;
  min_days: number;
  max_days: number;
  free_shipping_eligible: boolean;
}

/** The active rates of the zone `country` (upper-case alpha-2) is in; empty when we do not ship there. */
export async function ratesForCountry(db: Queryable, country: string): Promise<Rate[]> {
  const { rows } = await db.query<RateRow>(
    `SELECT r.zone_id, r.method_id, m.name AS method_name, m.sort_order, r.currency, r.base_minor, r.per_extra_item_minor,
            r.included_grams_per_item, r.per_extra_kg_minor, r.min_days, r.max_days, r.free_shipping_eligible
       FROM zone_countries c
       JOIN shipping_rates r ON r.zone_id = c.zone_id AND r.active
       JOIN shipping_methods m ON m.id = r.method_id
      WHERE c.country = $1
      ORDER BY m.sort_order, m.id`,
    [country],
  );
  return rows.map((r) => ({
    zoneId: r.zone_id,
    methodId: r.method_id,
    methodName: r.method_name,
    sortOrder: r.sort_order,
    currency: r.currency,
    baseMinor: r.base_minor,
    perExtraItemMinor: r.per_extra_item_minor,
    includedGramsPerItem: r.included_grams_per_item,
    perExtraKgMinor: r.per_extra_kg_minor,
    minDays: r.min_days,
    maxDays: r.max_days,
    freeShippingEligible: r.free_shipping_eligible,
  }));
}

/** Whether any method is offered to `country`: the same rule as ratesForCountry being non-empty. */
export async function shipsTo(db: Queryable, country: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM zone_countries c
       JOIN shipping_rates r ON r.zone_id = c.zone_id AND r.active
      WHERE c.country = $1
      LIMIT 1`,
    [country],
  );
  return rows.length > 0;
}
