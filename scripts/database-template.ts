// The embedded databases' empty template (lib/data/pglite.ts), made ahead of the services: `npm start`
// runs this beside the Prisma client generation on a machine's first start.
import { prepareTemplate } from '../lib/data/pglite.js';

if (!(await prepareTemplate())) process.exitCode = 1;
