// Standard shipping for one unit of a product, from the catalog's price and weight (the fields
// this subgraph `@requires`): a base rate for the first 500 g, a step per further 500 g, and free
// shipping from a price threshold on.
export interface Money {
  amount: number;
  currency: string;
}

export const FREE_SHIPPING_FROM = 10_000; // 100.00 in minor units
export const BASE_RATE = 499;
export const RATE_PER_EXTRA_500G = 150;

export function shippingEstimate(price: Money, weightGrams: number): Money {
  if (price.amount >= FREE_SHIPPING_FROM) return { amount: 0, currency: price.currency };
  const extraSteps = Math.ceil(Math.max(0, weightGrams - 500) / 500);
  return { amount: BASE_RATE + extraSteps * RATE_PER_EXTRA_500G, currency: price.currency };
}
