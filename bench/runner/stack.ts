// The four subgraphs and this gateway as separate processes on a block of ports of this run (the
// gateway on the first, the subgraphs on the next four), with signing keys made for the run
// (production refuses the committed development keys), seeded with demo data. A stack runs from this
// checkout or from another one (an earlier commit's, for `--baseline`).
import { generateSigningKey, keyEnvOf, type KeyHolder, type SigningKey } from '../../lib/security/keys.js';
import { ROOT } from '../../lib/paths.js';
import { databaseUrlVar, portVar, SERVICE_NAMES, urlVar, type ServiceName } from '../../lib/services.js';
import { graphqlUrl } from './graphql.js';
import { randomPortBlock } from './ports.js';
import { startService, type Service } from './services.js';

export interface SubgraphOptions {
  seedScale: number;
  /** Where the embedded databases go (PGlite), unless `databases` names PostgreSQL ones. */
  dataDir: string;
  databases?: Record<ServiceName, string>;
  /** Node flags before the entry point, per subgraph (such as `--inspect=...`). */
  nodeFlags?: (name: ServiceName) => string[];
}

export interface GatewayOptions {
  /** The name the service goes by in the output. */
  name: string;
  supergraphFile: string;
  env?: NodeJS.ProcessEnv;
  nodeFlags?: string[];
}

export class Stack {
  readonly basePort: number;
  readonly ports: Record<ServiceName, number>;

  /**
   * Ports from a random block of `blockSize` at `from` or above; the services run from `root`. Two
   * stacks given the same `keys` accept each other's tokens.
   */
  constructor(
    from: number,
    blockSize: number,
    readonly root = ROOT,
    readonly keys: Record<'users' | 'orders', SigningKey> = { users: generateSigningKey(), orders: generateSigningKey() },
  ) {
    this.basePort = randomPortBlock(from, blockSize);
    this.ports = { users: this.basePort + 1, catalog: this.basePort + 2, orders: this.basePort + 3, reviews: this.basePort + 4 };
  }

  get gatewayUrl() {
    return graphqlUrl(this.basePort);
  }

  subgraphUrl(name: ServiceName) {
    return graphqlUrl(this.ports[name]);
  }

  /** What every process of the stack gets: quiet logs, `holder`'s keys, the subgraphs' URLs. */
  env(holder: KeyHolder): NodeJS.ProcessEnv {
    return {
      LOG_LEVEL: 'warn',
      ...keyEnvOf(holder, this.keys),
      ...Object.fromEntries(SERVICE_NAMES.map((n) => [urlVar(n), this.subgraphUrl(n)])),
    };
  }

  /** The environment of a production gateway that accepts free-form operations, as the benchmarks send. */
  productionGatewayEnv(): NodeJS.ProcessEnv {
    return { ...this.env('gateway'), NODE_ENV: 'production', OPERATIONS: 'any' };
  }

  startSubgraphs({ seedScale, dataDir, databases, nodeFlags }: SubgraphOptions): Promise<Service[]> {
    return Promise.all(
      SERVICE_NAMES.map((name) =>
        startService(
          name,
          [...(nodeFlags?.(name) ?? []), '--import', 'tsx', `subgraphs/${name}/index.ts`],
          {
            ...this.env(name),
            NODE_ENV: 'development', // seeding demo data is a development feature
            SEED: 'true',
            SEED_SCALE: String(seedScale),
            DATA_DIR: dataDir,
            [portVar(name)]: String(this.ports[name]),
            ...(databases ? { [databaseUrlVar(name)]: databases[name] } : {}),
          },
          this.subgraphUrl(name),
          this.root,
        ),
      ),
    );
  }

  /** This gateway (gateway/index.ts) in production on the block's first port. */
  startGateway({ name, supergraphFile, env, nodeFlags = [] }: GatewayOptions): Promise<Service> {
    return startService(
      name,
      [...nodeFlags, '--import', 'tsx', 'gateway/index.ts'],
      { ...this.productionGatewayEnv(), ...env, GATEWAY_PORT: String(this.basePort), SUPERGRAPH_PATH: supergraphFile },
      this.gatewayUrl,
      this.root,
    );
  }
}
