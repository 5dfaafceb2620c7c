// Configuration read from the environment once at start and validated, with errors naming the variable.
import path from 'node:path';
import { z } from 'zod';
import { ROOT, SUPERGRAPH_PATH } from './paths.js';
import { DEFAULT_PORTS, databaseUrlVar, localServiceUrl, portVar, SERVICE_NAMES, type ServiceName } from './services.js';

/** Used only outside production, so that `npm start` works with no setup; production must set its own. */
const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-in-production';

const port = z.coerce.number().int().min(0).max(65535);
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const commonSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  DATA_DIR: z.string().default(path.join(ROOT, '.data')),
});

export interface CommonConfig {
  production: boolean;
  logLevel: string;
  jwtSecret: string;
}

export interface SubgraphConfig extends CommonConfig {
  name: ServiceName;
  port: number;
  /** PostgreSQL URL, or undefined for the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  /** Where the embedded database is kept; undefined keeps it in memory (tests). */
  dataDir: string | undefined;
  /** Seed demo data when the database is empty (default: on for the embedded database only). */
  seed: boolean;
  /** Size of the seeded catalog; 1 gives a few hundred products, 100 tens of thousands. */
  seedScale: number;
  /** GraphQL endpoints of the other subgraphs, for service-to-service calls. */
  subgraphUrls: Record<ServiceName, string>;
  /** Orders: how old a half-done placement must be before recovery settles it, and how often it looks. */
  recovery: { minAgeSeconds: number; intervalMs: number };
  /** Fault injection for the crash-recovery test; never set in real deployments. */
  faults: { crashAfterReserve: boolean };
}

export interface GatewayConfig extends CommonConfig {
  port: number;
  /** Compose from the running subgraphs (development) instead of reading supergraph.graphql. */
  introspect: boolean;
  supergraphPath: string;
  /** Replaces the routing URL the supergraph gives a subgraph; the others are routed as the supergraph says. */
  subgraphUrls: Partial<Record<ServiceName, string>>;
  /** How long the gateway waits for a subgraph before answering without its fields. */
  subgraphTimeoutMs: number;
  /** @apollo/gateway's anonymous usage metrics to Apollo; off unless APOLLO_TELEMETRY_DISABLED=false. */
  apolloTelemetry: boolean;
}

type Env = Record<string, string | undefined>;

function parse<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid configuration:\n${problems}`);
  }
  return result.data;
}

// Subgraphs call each other (orders and reviews call catalog), so they need every URL: local by default.
const serviceUrl = (name: ServiceName) => z.url().default(localServiceUrl(name));
const urlsSchema = z.object({
  USERS_URL: serviceUrl('users'),
  CATALOG_URL: serviceUrl('catalog'),
  ORDERS_URL: serviceUrl('orders'),
  REVIEWS_URL: serviceUrl('reviews'),
});
// The gateway routes by the supergraph it serves; a variable overrides one subgraph only when it is set.
const urlOverridesSchema = z.object({
  USERS_URL: z.url().optional(),
  CATALOG_URL: z.url().optional(),
  ORDERS_URL: z.url().optional(),
  REVIEWS_URL: z.url().optional(),
});

const subgraphSchema = commonSchema.extend(urlsSchema.shape).extend({
  SEED: flag.optional(),
  SEED_SCALE: z.coerce.number().positive().max(1000).default(1),
  RECOVERY_MIN_AGE_SECONDS: z.coerce.number().min(0).default(30),
  RECOVERY_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  FAULT_CRASH_AFTER_RESERVE: flag.default(false),
});

/** The variables named after the subgraph (USERS_PORT, USERS_DATABASE_URL). */
const ownVarsSchema = (name: ServiceName) =>
  z.object({ [portVar(name)]: port.default(DEFAULT_PORTS[name]), [databaseUrlVar(name)]: postgresUrl.optional() });

const gatewaySchema = commonSchema.extend(urlOverridesSchema.shape).extend({
  GATEWAY_PORT: port.default(DEFAULT_PORTS.gateway),
  SUPERGRAPH: z.enum(['file', 'introspect']).default('file'),
  SUPERGRAPH_PATH: z.string().default(SUPERGRAPH_PATH),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  APOLLO_TELEMETRY_DISABLED: flag.default(true),
});

/** Every environment variable a service reads (the docker-compose test holds the compose file to it). */
export const envVarsOf = (service: ServiceName | 'gateway'): string[] =>
  service === 'gateway' ? Object.keys(gatewaySchema.shape) : [...Object.keys(subgraphSchema.shape), ...Object.keys(ownVarsSchema(service).shape)];

function common(c: z.infer<typeof commonSchema>): CommonConfig {
  const production = c.NODE_ENV === 'production';
  if (production && !c.JWT_SECRET) throw new Error('invalid configuration:\n  JWT_SECRET: required in production');
  return { production, logLevel: c.LOG_LEVEL, jwtSecret: c.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET };
}

const subgraphUrls = (c: z.infer<typeof urlsSchema>): Record<ServiceName, string> => ({
  users: c.USERS_URL,
  catalog: c.CATALOG_URL,
  orders: c.ORDERS_URL,
  reviews: c.REVIEWS_URL,
});

const urlOverrides = (c: z.infer<typeof urlOverridesSchema>): Partial<Record<ServiceName, string>> => {
  const all = { users: c.USERS_URL, catalog: c.CATALOG_URL, orders: c.ORDERS_URL, reviews: c.REVIEWS_URL };
  return Object.fromEntries(SERVICE_NAMES.flatMap((name) => (all[name] ? [[name, all[name]]] : [])));
};

export function loadSubgraphConfig(name: ServiceName, env: Env = process.env): SubgraphConfig {
  const c = parse(subgraphSchema, env);
  const own = parse(ownVarsSchema(name), env);
  const databaseUrl = own[databaseUrlVar(name)] as string | undefined;
  return {
    ...common(c),
    name,
    port: own[portVar(name)] as number,
    databaseUrl,
    dataDir: databaseUrl ? undefined : c.DATA_DIR,
    seed: c.SEED ?? databaseUrl === undefined,
    seedScale: c.SEED_SCALE,
    subgraphUrls: subgraphUrls(c),
    recovery: { minAgeSeconds: c.RECOVERY_MIN_AGE_SECONDS, intervalMs: c.RECOVERY_INTERVAL_MS },
    faults: { crashAfterReserve: c.FAULT_CRASH_AFTER_RESERVE },
  };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const c = parse(gatewaySchema, env);
  return {
    ...common(c),
    port: c.GATEWAY_PORT,
    introspect: c.SUPERGRAPH === 'introspect',
    supergraphPath: c.SUPERGRAPH_PATH,
    subgraphUrls: urlOverrides(c),
    subgraphTimeoutMs: c.SUBGRAPH_TIMEOUT_MS,
    apolloTelemetry: !c.APOLLO_TELEMETRY_DISABLED,
  };
}
