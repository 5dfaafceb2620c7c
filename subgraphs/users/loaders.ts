import { loaderById } from '../../lib/subgraph/loaders.js';
import { rowsByKey } from '../../lib/subgraph/rows-by-key.js';
import type { BaseContext } from '../../lib/subgraph/server.js';
import type { User, UsersDb } from './db.js';

export function createContext(db: UsersDb, base: BaseContext) {
  return {
    ...base,
    users: loaderById(rowsByKey<User>(db, { table: 'User', column: 'id', dates: ['createdAt'] }), (u) => u.id),
  };
}
export type UsersContext = ReturnType<typeof createContext>;
