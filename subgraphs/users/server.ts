// The users subgraph: accounts, registration and login.
import type { SubgraphModule } from '../../lib/subgraph/server.js';
import { seed } from '../../prisma/users/seed.js';
import { createClient, type UsersDb } from './db.js';
import { createContext, type UsersContext } from './loaders.js';
import { createLoginThrottle } from './login-throttle.js';
import { createResolvers } from './resolvers.js';

export const users: SubgraphModule<UsersDb, UsersContext> = {
  createClient,
  seed,
  define: (db, { tokens, config, logger }) => {
    const throttle = createLoginThrottle(db, config, logger);
    return {
      name: 'users',
      resolvers: createResolvers(db, tokens, throttle),
      context: (base) => createContext(db, base),
      close: () => throttle.close(),
    };
  },
};
