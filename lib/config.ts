// Configuration read from the environment once at start and validated, with errors naming the variable.
import path from 'node:path';
import express from 'express';
import { z } from 'zod';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './security/operation-limits.js';
import { DEFAULT_ASSUMED_LIST_SIZE } from './security/cost-model.js';
import { keyVarsOf, parsePrivateKey, parsePublicKeys, resolveTokenKeys, type KeyHolder, type TokenKeys } from './security/keys.js';
import { ROOT, SUPERGRAPH_PATH } from './paths.js';
import { DEFAULT_PORTS, databaseUrlVar, localServiceUrl, portVar, SERVICE_NAMES, type ServiceName } from './services.js';

export interface SubscriptionBounds {
  /** Subscriptions one connection may hold at once. */
  perConnection: number;
  /** Subscriptions one user may hold at once, over all their connections to this gateway. */
  perUser: number;
  /** Bytes waiting in a socket's send buffer beyond which its client is disconnected. */
  maxBufferedBytes: number;
}

export const DEFAULT_SUBSCRIPTION_BOUNDS: SubscriptionBounds = { perConnection: 50, perUser: 200, maxBufferedBytes: 1024 * 1024 };

const DEMO_DATA_REFUSED = 'the demo data has published passwords and is refused in production; create the first administrator with npm run create-admin';

const port = z.coerce.number().int().min(0).max(65535);
const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const count = z.coerce.number().int().positive();

/**
 * Express's `trust proxy` list (comma-separated addresses, CIDRs and the names loopback, linklocal,
 * uniquelocal; empty or `none`: trust no proxy), checked by Express's own parser.
 */
const trustedProxies = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((list) => list.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '' && entry !== 'none'))
    .refine(
      (list) => {
        try {
          express().set('trust proxy', list);
          return true;
        } catch {
          return false;
        }
      },
      'must be comma-separated IP addresses or CIDRs, or loopback, linklocal, uniquelocal (or none)',
    );

/** The gateway's operation limits; subgraphs derive theirs from the same values (lib/security/operation-limits.ts). */
const limit = (value: number) => z.coerce.number().int().positive().default(value);
const limitsSchema = z.object({
  MAX_DEPTH: limit(DEFAULT_OPERATION_LIMITS.depth),
  MAX_ALIASES: limit(DEFAULT_OPERATION_LIMITS.aliases),
  MAX_ROOT_FIELDS: limit(DEFAULT_OPERATION_LIMITS.rootFields),
  MAX_DIRECTIVES: limit(DEFAULT_OPERATION_LIMITS.directives),
  MAX_TOKENS: limit(DEFAULT_OPERATION_LIMITS.tokens),
  MAX_COST: limit(DEFAULT_OPERATION_LIMITS.cost),
});
const limitsOf = (c: z.infer<typeof limitsSchema>): OperationLimits => ({
  depth: c.MAX_DEPTH,
  aliases: c.MAX_ALIASES,
  rootFields: c.MAX_ROOT_FIELDS,
  directives: c.MAX_DIRECTIVES,
  tokens: c.MAX_TOKENS,
  cost: c.MAX_COST,
});

const commonSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().default(path.join(ROOT, '.data')),
  ...limitsSchema.shape,
});

export interface CommonConfig {
  production: boolean;
  logLevel: string;
  /** The token keys this service holds (lib/security/keys.ts): private only where it signs, public where it verifies. */
  keys: TokenKeys;
}

/** Users: how many failed logins (per account, per client address) and registrations (per address) a window allows. */
export interface LoginThrottleConfig {
  failuresPerAccount: number;
  failuresPerAddress: number;
  failureWindowSeconds: number;
  registrationsPerAddress: number;
  registrationWindowSeconds: number;
}

export interface SubgraphConfig extends CommonConfig {
  name: ServiceName;
  port: number;
  /** Proxies whose X-Forwarded-For names the client (Express `trust proxy`): the gateway's networks. */
  trustedProxies: string[];
  /** PostgreSQL URL, or undefined for the embedded PGlite database in `dataDir`. */
  databaseUrl: string | undefined;
  /** Where the embedded database is kept; undefined keeps it in memory (tests). */
  dataDir: string | undefined;
  /** Seed demo data when the database is empty (default: on for the embedded database outside production; refused in production). */
  seed: boolean;
  /** Size of the seeded catalog; 1 gives a few hundred products, 100 tens of thousands. */
  seedScale: number;
  /** GraphQL endpoints of the other subgraphs, for service-to-service calls. */
  subgraphUrls: Record<ServiceName, string>;
  /** Orders: how old a half-done placement must be before recovery settles it, and how often it looks. */
  recovery: { minAgeSeconds: number; intervalMs: number };
  /**
   * Fault injection for the crash tests; never set in real deployments. Orders exits between
   * reserving stock and confirming the order; catalog exits between committing a reservation and answering it.
   */
  faults: { crashAfterReserve: boolean; crashBeforeReserveAnswer: boolean };
  loginThrottle: LoginThrottleConfig;
  /** Redis for the login throttle's counters; undefined keeps them in the users database. */
  redis: { url: string; keyPrefix: string } | undefined;
  /** The gateway's operation limits: the subgraph applies `subgraphLimits` of them. */
  limits: OperationLimits;
}

/** Estimated cost a client may spend per window at the gateway (gateway/features/cost-budget.ts). */
export interface CostBudgetConfig {
  /** A customer's, or an anonymous client's (by address). */
  points: number;
  adminPoints: number;
  servicePoints: number;
  windowSeconds: number;
  /** `client-name`: an operation sent by persisted id spends its client name's budget. */
  key: 'viewer' | 'client-name';
  /** Shared by every replica when set; else each gateway counts in its memory. */
  redis: { url: string; keyPrefix: string } | undefined;
}

/** Ten operations at the cost limit a minute for a client, fifty for an administrator or the service token. */
export const DEFAULT_COST_BUDGET = { points: 2_000_000, adminPoints: 10_000_000, servicePoints: 10_000_000, windowSeconds: 60 } as const;

export interface GatewayConfig extends CommonConfig {
  port: number;
  /** Proxies whose X-Forwarded-For names the client (Express `trust proxy`); none by default. */
  trustedProxies: string[];
  /** Compose from the running subgraphs (development) instead of reading supergraph.graphql. */
  introspect: boolean;
  supergraphPath: string;
  /** Replaces the routing URL the supergraph gives a subgraph; the others are routed as the supergraph says. */
  subgraphUrls: Partial<Record<ServiceName, string>>;
  /** How long the gateway waits for a subgraph before answering without its fields. */
  subgraphTimeoutMs: number;
  /** Identical subgraph queries in flight share one call (same token, same variables). */
  dedupeSubgraphQueries: boolean;
  /** Refuse a whole operation that selects a field the caller may not read, instead of answering the rest. */
  rejectUnauthorized: boolean;
  /** The size the cost estimate assumes for a list whose schema declares none (@listSize). */
  costAssumedListSize: number;
  /** Estimated cost each client may spend per window (gateway/features/cost-budget.ts). */
  costBudget: CostBudgetConfig;
  /** @apollo/gateway's anonymous usage metrics to Apollo; off unless APOLLO_TELEMETRY_DISABLED=false. */
  apolloTelemetry: boolean;
  /** Operation limits, checked before a query is planned. */
  limits: OperationLimits;
  /** A built web shop (web/dist) to serve at /; none by default. */
  webRoot?: string;
  /** Which operations run (gateway/features/trusted-documents.ts). */
  trustedDocuments: TrustedDocumentsConfig;
  /** The response cache for public reads (gateway/features/response-cache.ts). */
  responseCache: ResponseCacheConfig;
  /** Bounds on subscriptions (gateway/subscriptions/service.ts); its defaults when absent. */
  subscriptions?: SubscriptionBounds;
  /** Batched requests, a JSON array of operations in one POST (gateway/features/batching.ts); off when absent. */
  batching?: BatchingConfig;
}

/** The most operations one batch may hold; above it a batch is mostly a way around per-request rate limits. */
export const MAX_BATCH_OPERATIONS = 100;

export interface BatchingConfig {
  /** The most operations one batched request may hold; 0 refuses every batch (Apollo Server's default). */
  maxOperations: number;
}

export interface ResponseCacheConfig {
  enabled: boolean;
  /** Shared by the replicas; undefined keeps the cache in the gateway's memory. */
  redis: { url: string; keyPrefix: string } | undefined;
}

export type OperationsPolicy = 'any' | 'persisted' | 'manifest';
export interface TrustedDocumentsConfig {
  /** any: everything; persisted: by hash only (manifest ids and APQ); manifest: the manifest's operations only. */
  policy: OperationsPolicy;
  /** Apollo's persisted query manifest (npm run operations:manifest). */
  manifestPath: string;
  /** A secret that lets its holder send any operation (header x-operations-key), besides ADMIN tokens. */
  adminKey: string | undefined;
}

type Env = Record<string, string | undefined>;
/** What is wrong with one variable. */
type Problem = { variable: string; message: string };

const invalid = (problems: Problem[]) =>
  new Error(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);

function parse<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) throw invalid(result.error.issues.map((i) => ({ variable: i.path.join('.'), message: i.message })));
  return result.data;
}

/** A key variable, parsed and checked by lib/security/keys.ts (whose messages never repeat the value). */
const keyVar = (parseKey: typeof parsePrivateKey | typeof parsePublicKeys) =>
  z.string().transform((text, ctx) => {
    try {
      return parseKey(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

/** Only the issuer reads its private key; only the services that verify a token read its public keys. */
const keyVarsSchema = (holder: KeyHolder) =>
  z.object(Object.fromEntries(keyVarsOf(holder).map(({ variable, kind }) => [variable, keyVar(kind === 'private' ? parsePrivateKey : parsePublicKeys).optional()])));

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
  FAULT_CRASH_BEFORE_RESERVE_ANSWER: flag.default(false),
  // Subgraphs sit behind the gateway, which sends them the client's address.
  TRUSTED_PROXIES: trustedProxies('loopback, uniquelocal'),
  LOGIN_FAILURES_PER_ACCOUNT: count.default(5),
  LOGIN_FAILURES_PER_ADDRESS: count.default(30),
  LOGIN_FAILURE_WINDOW_SECONDS: count.default(15 * 60),
  REGISTRATIONS_PER_ADDRESS: count.default(20),
  REGISTRATION_WINDOW_SECONDS: count.default(60 * 60),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_KEY_PREFIX: z.string().default('commerce:'),
});

/** The variables named after the subgraph (USERS_PORT, USERS_DATABASE_URL). */
const ownVarsSchema = (name: ServiceName) =>
  z.object({ [portVar(name)]: port.default(DEFAULT_PORTS[name]), [databaseUrlVar(name)]: postgresUrl.optional() });

const gatewaySchema = commonSchema.extend(urlOverridesSchema.shape).extend({
  GATEWAY_PORT: port.default(DEFAULT_PORTS.gateway),
  SUPERGRAPH: z.enum(['file', 'introspect']).default('file'),
  SUPERGRAPH_PATH: z.string().default(SUPERGRAPH_PATH),
  SUBGRAPH_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  DEDUPE_SUBGRAPH_QUERIES: flag.default(true),
  AUTHORIZATION_REJECT_UNAUTHORIZED: flag.default(false),
  COST_BUDGET: z.coerce.number().int().positive().default(DEFAULT_COST_BUDGET.points),
  COST_BUDGET_ADMIN: z.coerce.number().int().positive().default(DEFAULT_COST_BUDGET.adminPoints),
  COST_BUDGET_SERVICE: z.coerce.number().int().positive().default(DEFAULT_COST_BUDGET.servicePoints),
  COST_BUDGET_WINDOW_SECONDS: z.coerce.number().int().positive().max(86_400).default(DEFAULT_COST_BUDGET.windowSeconds),
  COST_BUDGET_KEY: z.enum(['viewer', 'client-name']).default('viewer'),
  COST_ASSUMED_LIST_SIZE: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_ASSUMED_LIST_SIZE),
  APOLLO_TELEMETRY_DISABLED: flag.default(true),
  // The gateway faces the clients: it believes X-Forwarded-For only from proxies it is told about.
  TRUSTED_PROXIES: trustedProxies(''),
  WEB_ROOT: z.string().min(1).optional(),
  // Default: `manifest` in production, `any` otherwise.
  OPERATIONS: z.enum(['any', 'persisted', 'manifest']).optional(),
  OPERATIONS_MANIFEST: z.string().default(path.join(ROOT, 'operations', 'persisted-query-manifest.json')),
  OPERATIONS_ADMIN_KEY: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
  // Default: on in production, off in development (where data is often changed by hand).
  RESPONSE_CACHE: flag.optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
  REDIS_KEY_PREFIX: z.string().default('commerce:'),
  // Bounds on subscriptions, per gateway replica (gateway/subscriptions/service.ts).
  SUBSCRIPTIONS_PER_CONNECTION: count.default(DEFAULT_SUBSCRIPTION_BOUNDS.perConnection),
  SUBSCRIPTIONS_PER_USER: count.default(DEFAULT_SUBSCRIPTION_BOUNDS.perUser),
  SUBSCRIPTION_BUFFER_BYTES: z.coerce.number().int().min(16 * 1024, 'must be at least 16384 (16 KiB)').default(DEFAULT_SUBSCRIPTION_BOUNDS.maxBufferedBytes),
  // Off by default: a batch multiplies what one request may ask, so a deployment opts in with its size.
  BATCH_MAX_OPERATIONS: z.coerce
    .number()
    .int('must be a whole number')
    .min(0, 'must be 0 (off) or more')
    .max(MAX_BATCH_OPERATIONS, `must be at most ${MAX_BATCH_OPERATIONS}`)
    .default(0),
});

/** Every environment variable a service reads (the docker-compose test holds the compose file to it). */
export const envVarsOf = (service: ServiceName | 'gateway'): string[] => [
  ...(service === 'gateway' ? Object.keys(gatewaySchema.shape) : [...Object.keys(subgraphSchema.shape), ...Object.keys(ownVarsSchema(service).shape)]),
  ...Object.keys(keyVarsSchema(service).shape),
];

/** The settings every service shares, and its token keys; `refusedInProduction` lists what production must not have. */
function common(c: z.infer<typeof commonSchema>, holder: KeyHolder, env: Env, refusedInProduction: Problem[] = []): CommonConfig {
  const production = c.NODE_ENV === 'production';
  const { keys, problems } = resolveTokenKeys(holder, parse(keyVarsSchema(holder), env), production);
  if (production) problems.push(...refusedInProduction);
  if (problems.length > 0) throw invalid(problems);
  return { production, logLevel: c.LOG_LEVEL, keys };
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
  const base = common(c, name, env, c.SEED ? [{ variable: 'SEED', message: DEMO_DATA_REFUSED }] : []);
  return {
    ...base,
    name,
    port: own[portVar(name)] as number,
    trustedProxies: c.TRUSTED_PROXIES,
    databaseUrl,
    dataDir: databaseUrl ? undefined : c.DATA_DIR,
    seed: c.SEED ?? (!base.production && databaseUrl === undefined),
    seedScale: c.SEED_SCALE,
    subgraphUrls: subgraphUrls(c),
    recovery: { minAgeSeconds: c.RECOVERY_MIN_AGE_SECONDS, intervalMs: c.RECOVERY_INTERVAL_MS },
    faults: { crashAfterReserve: c.FAULT_CRASH_AFTER_RESERVE, crashBeforeReserveAnswer: c.FAULT_CRASH_BEFORE_RESERVE_ANSWER },
    loginThrottle: {
      failuresPerAccount: c.LOGIN_FAILURES_PER_ACCOUNT,
      failuresPerAddress: c.LOGIN_FAILURES_PER_ADDRESS,
      failureWindowSeconds: c.LOGIN_FAILURE_WINDOW_SECONDS,
      registrationsPerAddress: c.REGISTRATIONS_PER_ADDRESS,
      registrationWindowSeconds: c.REGISTRATION_WINDOW_SECONDS,
    },
    redis: c.REDIS_URL ? { url: c.REDIS_URL, keyPrefix: c.REDIS_KEY_PREFIX } : undefined,
    limits: limitsOf(c),
  };
}

/** Only where a subgraph's database is, for release jobs (`npm run migrate`, `npm run create-admin`) that hold no token keys. */
export function loadDatabaseConfig(name: ServiceName, env: Env = process.env): Pick<SubgraphConfig, 'databaseUrl' | 'dataDir'> {
  const databaseUrl = parse(ownVarsSchema(name), env)[databaseUrlVar(name)] as string | undefined;
  return { databaseUrl, dataDir: databaseUrl ? undefined : parse(commonSchema.pick({ DATA_DIR: true }), env).DATA_DIR };
}

/** A budget below MAX_COST would refuse forever an operation the limits accept. */
function costBudgetOf(c: z.infer<typeof gatewaySchema>): CostBudgetConfig {
  const low = (['COST_BUDGET', 'COST_BUDGET_ADMIN', 'COST_BUDGET_SERVICE'] as const).filter((v) => c[v] < c.MAX_COST);
  if (low.length > 0) throw invalid(low.map((variable) => ({ variable, message: `must be at least MAX_COST (${c.MAX_COST}): one operation may cost that much` })));
  return {
    points: c.COST_BUDGET,
    adminPoints: c.COST_BUDGET_ADMIN,
    servicePoints: c.COST_BUDGET_SERVICE,
    windowSeconds: c.COST_BUDGET_WINDOW_SECONDS,
    key: c.COST_BUDGET_KEY,
    redis: c.REDIS_URL ? { url: c.REDIS_URL, keyPrefix: c.REDIS_KEY_PREFIX } : undefined,
  };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const c = parse(gatewaySchema, env);
  const base = common(c, 'gateway', env);
  return {
    ...base,
    port: c.GATEWAY_PORT,
    trustedProxies: c.TRUSTED_PROXIES,
    introspect: c.SUPERGRAPH === 'introspect',
    supergraphPath: c.SUPERGRAPH_PATH,
    subgraphUrls: urlOverrides(c),
    subgraphTimeoutMs: c.SUBGRAPH_TIMEOUT_MS,
    dedupeSubgraphQueries: c.DEDUPE_SUBGRAPH_QUERIES,
    rejectUnauthorized: c.AUTHORIZATION_REJECT_UNAUTHORIZED,
    costAssumedListSize: c.COST_ASSUMED_LIST_SIZE,
    costBudget: costBudgetOf(c),
    apolloTelemetry: !c.APOLLO_TELEMETRY_DISABLED,
    limits: limitsOf(c),
    webRoot: c.WEB_ROOT,
    trustedDocuments: {
      policy: c.OPERATIONS ?? (base.production ? 'manifest' : 'any'),
      manifestPath: c.OPERATIONS_MANIFEST,
      adminKey: c.OPERATIONS_ADMIN_KEY,
    },
    responseCache: { enabled: c.RESPONSE_CACHE ?? base.production, redis: c.REDIS_URL ? { url: c.REDIS_URL, keyPrefix: c.REDIS_KEY_PREFIX } : undefined },
    subscriptions: { perConnection: c.SUBSCRIPTIONS_PER_CONNECTION, perUser: c.SUBSCRIPTIONS_PER_USER, maxBufferedBytes: c.SUBSCRIPTION_BUFFER_BYTES },
    batching: { maxOperations: c.BATCH_MAX_OPERATIONS },
  };
}
