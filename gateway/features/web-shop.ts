// The built web shop (web/dist), served by the gateway beside /graphql: one origin, so the shop
// needs no CORS and its token is only ever sent to the API it came from. Vite names assets by
// content hash, so they are cached for good; index.html is revalidated, so a deploy shows at once.
import express, { type RequestHandler } from 'express';
import type { GatewayFeature } from '../feature.js';

export function webStatic(root: string): RequestHandler {
  return express.static(root, {
    index: 'index.html',
    fallthrough: true,
    setHeaders(res, file) {
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('cache-control', /[/\\]assets[/\\]/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

/** WEB_ROOT: the folder of the built shop; unset, the gateway serves no web pages. */
export function useWebShop(root: string | undefined): GatewayFeature {
  return root ? { staticFiles: webStatic(root) } : {};
}
