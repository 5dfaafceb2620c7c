// No Docker engine runs here, so the compose file is held to the code instead: it parses, names
// every service, and its ports, URLs and variables are the ones the services read.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envVarsOf, loadGatewayConfig, loadSubgraphConfig } from '../lib/config.js';
import { generateSigningKey, privateKeyJson, publicKeysJson } from '../lib/keys.js';
import { ROOT } from '../lib/paths.js';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '../lib/services.js';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;

/** What an operator puts in .env: `npm run keys` output and a database password. */
const users = generateSigningKey();
const orders = generateSigningKey();
const dotEnv: Record<string, string> = {
  USER_TOKEN_PRIVATE_KEY: privateKeyJson(users),
  USER_TOKEN_PUBLIC_KEYS: publicKeysJson([users]),
  ORDERS_TOKEN_PRIVATE_KEY: privateKeyJson(orders),
  ORDERS_TOKEN_PUBLIC_KEYS: publicKeysJson([orders]),
  POSTGRES_PASSWORD: 'a-password-from-dot-env',
};
const REFERENCE = /\$\{(\w+)(?:(:?[-?+])([^}]*))?\}/g;
/** Interpolates `${VAR}` and `${VAR:?message}` the way compose does: a missing required variable stops it with the message. */
const interpolate = (value: string, vars: Record<string, string>) =>
  value.replace(REFERENCE, (_, name: string, operator: string | undefined, message: string) => {
    if (operator && operator !== ':?') throw new Error(`\${${name}${operator}}: only required variables (:?) are allowed`);
    if (vars[name]) return vars[name];
    if (operator) throw new Error(`required variable ${name} is missing a value: ${message}`);
    return '';
  });
const resolved = (env: Record<string, string> = {}, vars = dotEnv) => Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), vars)]));

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, the four subgraphs and the gateway', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'postgres', ...SERVICE_NAMES].sort());
    expect(services.postgres!.healthcheck).toBeDefined();
  });

  it.each(SERVICE_NAMES)('starts %s from its entry point with a config the code accepts', (name: ServiceName) => {
    const service = services[name]!;
    const entry = service.command!.at(-1)!;
    expect(entry).toBe(`subgraphs/${name}/index.ts`);
    expect(existsSync(path.join(ROOT, entry))).toBe(true);

    const env = resolved(service.environment);
    expect(Object.keys(env).filter((k) => !envVarsOf(name).includes(k))).toEqual([]);
    const config = loadSubgraphConfig(name, env);
    expect(config.production).toBe(true);
    expect(config.port).toBe(DEFAULT_PORTS[name]);
    expect(service.healthcheck!.test.join(' ')).toContain(`localhost:${config.port}/ready`);
    expect(service.depends_on).toHaveProperty('postgres');

    const db = new URL(config.databaseUrl!);
    expect(db.hostname).toBe('postgres');
    expect(readFileSync(path.join(ROOT, 'docker/postgres-init.sql'), 'utf8')).toContain(`CREATE DATABASE ${db.pathname.slice(1)};`);
    for (const other of SERVICE_NAMES) {
      expect(config.subgraphUrls[other]).toBe(`http://${other}:${resolved(services[other]!.environment)[`${other.toUpperCase()}_PORT`]}/graphql`);
    }
  });

  it('publishes the gateway on its port once every subgraph is healthy', () => {
    const gateway = services.gateway!;
    const env = resolved(gateway.environment);
    expect(Object.keys(env).filter((k) => !envVarsOf('gateway').includes(k))).toEqual([]);
    const config = loadGatewayConfig(env);
    expect(gateway.ports).toEqual([`${config.port}:${config.port}`]);
    expect(existsSync(path.join(ROOT, gateway.command!.at(-1)!))).toBe(true);
    for (const name of SERVICE_NAMES) expect(gateway.depends_on![name]).toEqual({ condition: 'service_healthy' });
  });

  it('builds an image that has the generated Prisma clients', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN npm ci/);
    expect(dockerfile).toMatch(/RUN npm run generate/);
  });

  it('has no default for any key or password: each one is required, with a message saying where it comes from', () => {
    const references = [...text.matchAll(REFERENCE)].map(([, name, operator, message]) => ({ name: name!, operator, message }));
    expect(references.filter((r) => r.operator && r.operator !== ':?')).toEqual([]);
    const required = new Set(references.filter((r) => r.operator === ':?' && r.message!.length > 10).map((r) => r.name));
    expect([...required].sort()).toEqual(Object.keys(dotEnv).sort());
    // A bare ${VAR} is only allowed for a variable that is required elsewhere (compose checks the whole file first).
    expect(references.filter((r) => !required.has(r.name))).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (/KEY|SECRET|PASSWORD/.test(variable)) expect(value, `${name}.${variable}`).toMatch(/^\$\{\w+:\?[^}]+\}$/);
        if (/DATABASE_URL/.test(variable)) expect(new URL(interpolate(value, dotEnv)).password).toBe(dotEnv.POSTGRES_PASSWORD);
      }
      expect(service.environment ?? {}).not.toHaveProperty('SEED');
      expect(service.environment ?? {}).not.toHaveProperty('JWT_SECRET');
    }
  });

  it.each(Object.keys(dotEnv))('stops without %s, naming it', (variable) => {
    const { [variable]: _, ...rest } = dotEnv;
    const failures = Object.values(services).flatMap((service) => {
      try {
        resolved(service.environment, rest);
        return [];
      } catch (err) {
        return [(err as Error).message];
      }
    });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) expect(failure).toMatch(new RegExp(`required variable ${variable} is missing a value: .*(npm run keys|POSTGRES_PASSWORD)`));
  });

  it('gives each private key only to the service that signs with it', () => {
    const holders = (variable: string) => Object.keys(services).filter((name) => variable in resolved(services[name]!.environment));
    expect(holders('USER_TOKEN_PRIVATE_KEY')).toEqual(['users']);
    expect(holders('ORDERS_TOKEN_PRIVATE_KEY')).toEqual(['orders']);
    expect(holders('ORDERS_TOKEN_PUBLIC_KEYS')).toEqual(['catalog']);
    expect(holders('USER_TOKEN_PUBLIC_KEYS').sort()).toEqual(['catalog', 'gateway', 'orders', 'reviews', 'users']);
  });
});
