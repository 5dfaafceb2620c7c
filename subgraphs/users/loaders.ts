import { loaderById } from '../../lib/subgraph/loaders.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { UsersDb } from './db.js';

export function createContext(db: UsersDb, base: BaseContext) {
  return {
    ...base,
    users: loaderById((ids) => db.user.findMany({ where: { id: { in: [...ids] } } }), (u) => u.id),
  };
}
export type UsersContext = ReturnType<typeof createContext>;
