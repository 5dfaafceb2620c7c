// Before any test file runs: what the machine lacks (test/support/setup-check.ts), the services'
// bundles that tests start as processes of their own (startServiceProcess), built once here so that no two test files build them at the same time, and
// the subgraphs' migrated database templates (lib/data/pglite.ts), so that every new embedded database
// on disk is a copy of one.
import { checkAvailability } from './setup-check.js';
import { migratedTemplate } from '../../lib/data/migrations.js';
import { prepareTemplate } from '../../lib/data/pglite.js';
import { SERVICE_ENTRIES, serviceBundles } from '../../tools/service-build.js';
import { SERVICE_NAMES } from '../../lib/services.js';

export default async function setup(): Promise<void> {
  await checkAvailability();
  await Promise.all([
    serviceBundles(SERVICE_ENTRIES),
    ...SERVICE_NAMES.map(async (name) => prepareTemplate(await migratedTemplate(name))),
  ]);
}
