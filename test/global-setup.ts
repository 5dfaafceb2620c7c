// Before any test file runs: the services' bundles that tests start as processes of their own
// (startServiceProcess), built once here so that no two test files build them at the same time.
import { SERVICE_ENTRIES, serviceBundles } from '../lib/service-build.js';

export default async function setup(): Promise<void> {
  await serviceBundles(SERVICE_ENTRIES);
}
