import { z } from 'zod';
import { canSee, type Tokens } from '../../lib/security/auth.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../../lib/security/password.js';
import { isUniqueViolation } from '../../lib/data/database.js';
import { badUserInput, conflict, unauthenticated } from '../../lib/errors.js';
import { DateTime } from '../../lib/subgraph/scalars.js';
import { parseInput } from '../../lib/subgraph/validation.js';
import type { User, UsersDb } from './db.js';
import type { Resolvers } from './generated/graphql.js';
import type { UsersContext } from './loaders.js';
import type { LoginThrottle } from './login-throttle.js';

const registerInput = z.object({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email('email must be a valid email address')),
  password: z.string().min(8, 'password must be at least 8 characters').max(200, 'password must be at most 200 characters'),
  name: z.string().trim().min(1, 'name must not be empty').max(100, 'name must be at most 100 characters'),
});

export function createResolvers(db: UsersDb, tokens: Tokens, throttle: LoginThrottle): Resolvers {
  // The request that logs in is from then on made by that user (so the payload shows their email).
  const authPayload = async (user: User, ctx: UsersContext) => {
    ctx.viewer = { id: user.id, role: user.role };
    return { token: await tokens.sign(ctx.viewer), user };
  };

  return {
    DateTime,
    Query: {
      me: (_, __, ctx) => (ctx.viewer ? ctx.users.load(ctx.viewer.id) : null),
      user: (_, { id }, ctx) => ctx.users.load(id),
    },
    Mutation: {
      register: async (_, args, ctx) => {
        const input = parseInput(registerInput, args.input, 'input');
        await throttle.register(ctx.clientAddress());
        try {
          const user = await db.user.create({
            data: { email: input.email, name: input.name, passwordHash: await hashPassword(input.password) },
          });
          return authPayload(user, ctx);
        } catch (err) {
          if (isUniqueViolation(err)) throw conflict('an account with this email already exists');
          throw err;
        }
      },
      login: async (_, args, ctx) => {
        if (args.email.length > 254 || args.password.length > 200) throw badUserInput('email or password too long');
        const email = args.email.trim().toLowerCase();
        const user = await throttle.login({ email, address: ctx.clientAddress() }, async () => {
          const user = await db.user.findUnique({ where: { email } });
          const ok = await verifyPassword(args.password, user?.passwordHash ?? DUMMY_HASH);
          return user && ok ? user : null;
        });
        if (!user) throw unauthenticated('invalid email or password');
        return authPayload(user, ctx);
      },
    },
    User: {
      __resolveReference: (ref, ctx) => ctx.users.load(ref.id),
      email: (user, _, ctx) => (canSee(ctx, user.id) ? user.email : null),
    },
  };
}
