// Who is logged in: the token and the user, kept for this browser tab only (sessionStorage), so
// closing the tab logs out and no other site or tab reads it. Components subscribe to changes.
import { useSyncExternalStore } from 'react';
import type { LoginMutation } from '../../clients/generated/graphql.js';

export type Session = LoginMutation['login'];
const KEY = 'commerce.session';
const listeners = new Set<() => void>();
let current: Session | null = read();

function read(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function write(next: Session | null) {
  current = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

export const session = {
  get: () => current,
  set: (next: Session) => write(next),
  clear: () => write(null),
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
};

export const useSession = () => useSyncExternalStore(session.subscribe, session.get);
