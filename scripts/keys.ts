// `npm run keys`: new Ed25519 key pairs for the token issuers, printed as the environment lines to
// put in .env (docker compose reads it) or in a secret store. To rotate one issuer's key:
// `npm run keys -- users --previous "$USER_TOKEN_PUBLIC_KEYS"` prints a new pair whose public key
// set still holds the previous keys (see docs/production.md, "Keys").
import { parseArgs } from 'node:util';
import { generateSigningKey, ISSUERS, parsePublicKeys, privateKeyJson, publicKeysJson, type Issuer, type VerifyingKey } from '../lib/security/keys.js';

const USAGE = 'usage: npm run keys [-- users|orders [--previous <the public key set in use>]]';
let parsed: ReturnType<typeof parse>;
const parse = () => parseArgs({ options: { previous: { type: 'string' } }, allowPositionals: true, strict: true });
try {
  parsed = parse();
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const issuers = (parsed.positionals.length > 0 ? parsed.positionals : Object.keys(ISSUERS)) as Issuer[];
const unknown = issuers.filter((i) => !(i in ISSUERS));
if (unknown.length > 0 || (parsed.values.previous !== undefined && issuers.length !== 1)) {
  console.error(unknown.length > 0 ? `unknown issuer: ${unknown.join(', ')}\n${USAGE}` : `--previous goes with one issuer\n${USAGE}`);
  process.exit(2);
}
let previous: VerifyingKey[] = [];
try {
  previous = parsed.values.previous === undefined ? [] : parsePublicKeys(parsed.values.previous);
} catch (err) {
  console.error(`--previous ${(err as Error).message}`);
  process.exit(2);
}

const WHO: Record<Issuer, { signer: string; verifiers: string }> = {
  users: { signer: 'users service only: signs user tokens', verifiers: 'every service and the gateway: verify user tokens' },
  orders: { signer: "orders service only: signs the service token of catalog's stock operations", verifiers: 'catalog service only: verifies it' },
};
// Single quotes: .env files and shells take the JSON as it is.
const line = (name: string, value: string) => `${name}='${value}'`;
const lines = ['# Token keys from npm run keys. Keep the private keys secret: whoever holds one can sign that kind of token.'];
for (const issuer of issuers) {
  const key = generateSigningKey();
  const { privateVar, publicVar } = ISSUERS[issuer];
  lines.push(`# ${WHO[issuer].signer}`, line(privateVar, privateKeyJson(key)));
  lines.push(`# ${WHO[issuer].verifiers}${previous.length > 0 ? ' (the previous keys, then the new one)' : ''}`);
  lines.push(line(publicVar, publicKeysJson([...previous.filter((k) => k.kid !== key.kid), key])));
}
console.log(lines.join('\n'));
