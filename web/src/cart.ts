// The cart: client state only (the API has no cart), kept for this tab in sessionStorage so a
// reload does not empty it. A line remembers the name and price shown when it was added.
import { useSyncExternalStore } from 'react';

export interface CartLine {
  productId: string;
  name: string;
  unitPrice: { amount: number; currency: string };
  quantity: number;
}

const KEY = 'commerce.cart';
/** The API's limit per line. */
export const MAX_QUANTITY = 100;
const listeners = new Set<() => void>();
let lines: readonly CartLine[] = read();

function read(): CartLine[] {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '[]') as CartLine[];
  } catch {
    return [];
  }
}

function write(next: readonly CartLine[]) {
  lines = next;
  sessionStorage.setItem(KEY, JSON.stringify(next));
  for (const listener of listeners) listener();
}

const clamp = (n: number) => Math.max(1, Math.min(MAX_QUANTITY, Math.trunc(n)));

export const cart = {
  get: () => lines,
  add(line: Omit<CartLine, 'quantity'>, quantity = 1) {
    const existing = lines.find((l) => l.productId === line.productId);
    write(
      existing
        ? lines.map((l) => (l === existing ? { ...l, quantity: clamp(l.quantity + quantity) } : l))
        : [...lines, { ...line, quantity: clamp(quantity) }],
    );
  },
  setQuantity(productId: string, quantity: number) {
    write(lines.map((l) => (l.productId === productId ? { ...l, quantity: clamp(quantity) } : l)));
  },
  remove(productId: string) {
    write(lines.filter((l) => l.productId !== productId));
  },
  clear: () => write([]),
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
};

export const useCart = () => useSyncExternalStore(cart.subscribe, cart.get);
