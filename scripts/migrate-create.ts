// `npm run migrate:create -- <subgraph> <name>`: writes the next migration of a subgraph's database
// from its changed schema.prisma (like `prisma migrate dev --create-only`, without a server).
import { createMigration } from '../lib/data/migrations.js';
import { isServiceName, SERVICE_NAMES } from '../lib/services.js';

const [service, label] = process.argv.slice(2);
if (!service || !isServiceName(service) || !label) {
  console.error(`usage: npm run migrate:create -- <${SERVICE_NAMES.join('|')}> <migration_name>`);
  process.exit(2);
}
const folder = await createMigration(service, label);
console.log(folder ? `wrote ${folder}/migration.sql: review it, then commit it` : `${service}: schema.prisma matches the migrations, nothing to write`);
