// What both global setups (unit and e2e) do first: learn what this machine lacks (test/support/available.ts)
// and say it in one line, since the tests that need it are counted as skipped. Under CI=true nothing
// may be missing: the run fails at once, naming what is.
import { missingOf, REQUIREMENTS } from './available.js';

export async function checkAvailability(): Promise<void> {
  // One line per run, also when `npm test` runs both projects' setups in this process (each project
  // may load this module anew, so the mark is on the process's global object).
  const checked = globalThis as { testAvailabilityChecked?: boolean };
  if (checked.testAvailabilityChecked) return;
  checked.testAvailabilityChecked = true;
  const absent = await missingOf();
  const names = Object.keys(absent);
  if (names.length === 0) {
    console.log(`test setup: available: ${REQUIREMENTS.join(', ')}`);
    return;
  }
  const reasons = Object.values(absent).join('; ');
  if (process.env.CI === 'true') throw new Error(`CI=true but the suite needs what is missing here: ${names.join(', ')}: ${reasons}`);
  console.log(`test setup: unavailable (their tests are counted as skipped): ${reasons}`);
}

/** The unit project's global setup. */
export default checkAvailability;
