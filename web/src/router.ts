// A hash router small enough to read: `#/path?query`. The shop is static files, so any server
// (the gateway, a CDN) can serve it without rewriting paths to index.html.
import { useSyncExternalStore } from 'react';

export interface Location {
  path: string;
  params: URLSearchParams;
}

let cached: { hash: string; location: Location } | undefined;

function current(): Location {
  const hash = window.location.hash;
  if (cached?.hash !== hash) {
    const [path = '/', query = ''] = hash.replace(/^#/, '').split('?', 2);
    cached = { hash, location: { path: path || '/', params: new URLSearchParams(query) } };
  }
  return cached.location;
}

const subscribe = (listener: () => void) => {
  window.addEventListener('hashchange', listener);
  return () => window.removeEventListener('hashchange', listener);
};

export const useLocation = () => useSyncExternalStore(subscribe, current);

export function href(path: string, params?: Record<string, string | undefined>): string {
  const query = new URLSearchParams(Object.entries(params ?? {}).filter((e): e is [string, string] => !!e[1])).toString();
  return `#${path}${query ? `?${query}` : ''}`;
}

export function navigate(path: string, params?: Record<string, string | undefined>) {
  window.location.hash = href(path, params);
}
