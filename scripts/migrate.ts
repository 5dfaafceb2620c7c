// `npm run migrate [-- <subgraph>...]`: applies pending migrations to the databases the environment
// names (PostgreSQL with *_DATABASE_URL, otherwise the embedded ones). Services also do this on
// start; run it as a release step when you would rather not.
import { loadDatabaseConfig } from '../lib/config.js';
import { openAdapter } from '../lib/data/database.js';
import { applyMigrations } from '../lib/data/migrations.js';
import { isServiceName, SERVICE_NAMES } from '../lib/services.js';

const requested = process.argv.slice(2);
const unknown = requested.filter((n) => !isServiceName(n));
if (unknown.length > 0) {
  console.error(`unknown subgraph: ${unknown.join(', ')} (expected ${SERVICE_NAMES.join(', ')})`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested.filter(isServiceName) : SERVICE_NAMES) {
  const config = loadDatabaseConfig(name);
  const db = await openAdapter({ name, url: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied = await applyMigrations(name, db.adapter);
    console.log(`${name} (${db.kind}): ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'up to date'}`);
  } finally {
    await db.close();
  }
}
// The schema engine may keep an idle pooled connection alive for a while; nothing is left to do.
process.exit(0);
