// The first administrator of a deployment. Production has no demo accounts (their passwords are in
// the README), so an operator creates one with `npm run create-admin` (scripts/create-admin.ts).
import { z } from 'zod';
import { hashPassword } from '../../lib/security/password.js';
import { DEMO_ACCOUNTS, GENERATED_CUSTOMER_PASSWORD } from '../../prisma/seed-data.js';
import type { User, UsersDb } from './db.js';

const PUBLISHED_PASSWORDS = new Set<string>([...DEMO_ACCOUNTS.map((a) => a.password), GENERATED_CUSTOMER_PASSWORD]);

const administratorInput = z.object({
  email: z.string().trim().toLowerCase().max(254, 'must be at most 254 characters').pipe(z.email('must be a valid email address')),
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  password: z
    .string()
    .min(12, 'must be at least 12 characters')
    .max(200, 'must be at most 200 characters')
    .refine((p) => p.trim() === p, 'must not start or end with white space')
    .refine((p) => !PUBLISHED_PASSWORDS.has(p), 'is a published demo password'),
});
export type AdministratorInput = z.output<typeof administratorInput>;

/** A problem with the operator's input; the message names the field (email, name or password). */
export class AdministratorError extends Error {}

/** Checks the input before any database is opened. */
export function checkAdministrator(input: z.input<typeof administratorInput>): AdministratorInput {
  const parsed = administratorInput.safeParse(input);
  if (!parsed.success) throw new AdministratorError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}

export async function createAdministrator(db: UsersDb, input: AdministratorInput): Promise<User> {
  const { email, name, password } = checkAdministrator(input);
  if (await db.user.findUnique({ where: { email } })) throw new AdministratorError(`email: an account with ${email} already exists`);
  return db.user.create({ data: { email, name, role: 'ADMIN', passwordHash: await hashPassword(password) } });
}
