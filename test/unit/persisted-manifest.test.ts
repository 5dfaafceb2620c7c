// The persisted-operation manifest (tools/schema-check/persisted-manifest.ts): the committed file is
// what operations/ produce, and `npm run schema:check` fails, naming the operation, when it is not.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../lib/paths.js';
import { MANIFEST_FILE } from '../../lib/persisted-manifest.js';
import { buildManifest, manifestText } from '../../tools/schema-check/persisted-manifest.js';
import { checkManifest } from '../../tools/schema-check/persisted-manifest-check.js';
import { manifest } from '../support/persisted-requests.js';

const roots: string[] = [];
/** A folder with a copy of operations/ (and the committed manifest in it). */
function copyOfOperations(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'manifest-'));
  roots.push(root);
  cpSync(path.join(ROOT, 'operations'), path.join(root, 'operations'), { recursive: true });
  return root;
}
const write = (root: string, file: string, text: string) => writeFileSync(path.join(root, file), text);

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('the persisted-operation manifest', () => {
  it('is committed as operations/ produce it', () => {
    expect(manifest).toEqual(buildManifest(ROOT));
    expect(checkManifest(ROOT).ok).toBe(true);
  });

  it('fails the check, naming the operation, when an operation changed and the manifest was not regenerated', () => {
    const root = copyOfOperations();
    write(root, 'operations/web/CancelOrder.graphql', 'mutation CancelOrder($id: ID!) {\n  cancelOrder(id: $id) {\n    id\n    status\n    createdAt\n  }\n}\n');
    write(root, 'operations/web/Wishlist.graphql', 'query Wishlist {\n  categories {\n    id\n  }\n}\n');
    const stale = checkManifest(root);
    expect(stale.ok).toBe(false);
    expect(stale.summary).toMatch(/stale.*npm run operations:manifest/);
    expect(stale.details).toEqual(expect.arrayContaining([expect.stringMatching(/changed +CancelOrder/), expect.stringMatching(/missing +Wishlist/)]));
    write(root, MANIFEST_FILE, manifestText(buildManifest(root)));
    expect(checkManifest(root).ok).toBe(true);
  });

  it('appends the fragments an operation uses, after it, with __typename as Apollo Client adds it', () => {
    const root = copyOfOperations();
    write(root, 'operations/web/Card.graphql', 'query Card($id: ID!) {\n  product(id: $id) {\n    ...Card\n  }\n}\n');
    write(root, 'operations/web/fragments.graphql', 'fragment Price on Money {\n  amount\n}\nfragment Card on Product {\n  name\n  price {\n    ...Price\n  }\n}\nfragment Unused on Product {\n  id\n}\n');
    const card = buildManifest(root).operations.find((o) => o.name === 'Card')!;
    expect(card.body).toBe(
      'query Card($id: ID!) {\n  product(id: $id) {\n    ...Card\n    __typename\n  }\n}\n\n' +
        'fragment Card on Product {\n  name\n  price {\n    ...Price\n    __typename\n  }\n  __typename\n}\n\n' +
        'fragment Price on Money {\n  amount\n  __typename\n}',
    );
  });

  it('refuses an anonymous operation and two operations of one name: clients look ids up by name', () => {
    const anonymous = copyOfOperations();
    write(anonymous, 'operations/web/Anonymous.graphql', '{ categories { id } }\n');
    expect(() => buildManifest(anonymous)).toThrow(/has no name/);
    expect(checkManifest(anonymous)).toMatchObject({ ok: false, summary: expect.stringMatching(/cannot be persisted/) });
    const twice = copyOfOperations();
    write(twice, 'operations/mobile/Me.graphql', 'query Me {\n  me {\n    id\n  }\n}\n');
    expect(() => buildManifest(twice)).toThrow(/two operations are named Me/);
  });
});
