// The four subgraphs: their names, default ports and the environment variables that configure them.
export const SERVICE_NAMES = ['users', 'catalog', 'orders', 'reviews'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_PORTS: Record<ServiceName | 'gateway', number> = {
  gateway: 4000,
  users: 4001,
  catalog: 4002,
  orders: 4003,
  reviews: 4004,
};

const upper = (name: ServiceName) => name.toUpperCase();
/** `USERS_DATABASE_URL`: PostgreSQL for this subgraph; unset means the embedded PGlite database. */
export const databaseUrlVar = (name: ServiceName) => `${upper(name)}_DATABASE_URL`;
/** `USERS_PORT`: where this subgraph listens. */
export const portVar = (name: ServiceName) => `${upper(name)}_PORT`;
/** `USERS_URL`: where other services reach this subgraph's GraphQL endpoint; for the gateway, an override of the supergraph's routing URL. */
export const urlVar = (name: ServiceName) => `${upper(name)}_URL`;
/** Where a subgraph listens on this machine with the default ports (`npm start`). */
export const localServiceUrl = (name: ServiceName) => `http://localhost:${DEFAULT_PORTS[name]}/graphql`;

export function isServiceName(value: string): value is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(value);
}
