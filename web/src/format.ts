// Money arrives in minor units with its ISO 4217 code; Intl knows each currency's decimals.
export function formatMoney(money: { amount: number; currency: string }): string {
  const format = new Intl.NumberFormat(undefined, { style: 'currency', currency: money.currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(money.amount / 10 ** digits);
}

export const formatDate = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export const formatRating = (rating: number | null | undefined) => (rating == null ? 'No ratings yet' : `${rating.toFixed(1)} / 5`);
