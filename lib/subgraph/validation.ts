// Input validation with zod, reported as BAD_USER_INPUT naming the offending field.
import type { z } from 'zod';
import { badUserInput } from '../errors.js';

export function parseInput<T extends z.ZodType>(schema: T, value: unknown, root: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = [root, ...issue.path].reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), '').slice(1);
  throw badUserInput(issue.message, field);
}
