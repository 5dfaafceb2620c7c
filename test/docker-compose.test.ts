// No Docker engine runs here, so the compose file is held to the code instead: it parses, names
// every service, and its ports, URLs and variables are the ones the services read.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envVarsOf, loadGatewayConfig, loadSubgraphConfig } from '../lib/config.js';
import { ROOT } from '../lib/paths.js';
import { DEFAULT_PORTS, SERVICE_NAMES, type ServiceName } from '../lib/services.js';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const services = compose.services;
/** Resolves `${VAR:-default}` the way compose does when VAR is unset. */
const resolved = (env: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]));

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
});
