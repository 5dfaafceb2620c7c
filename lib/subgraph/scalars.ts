// Scalars shared by the subgraphs.
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const parseDate = (value: unknown) => {
  const date = typeof value === 'string' ? new Date(value) : null;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError('DateTime must be an ISO-8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return date;
};

/** ISO-8601 timestamps in UTC, e.g. "2026-03-01T12:00:00.000Z". */
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 timestamp in UTC',
  serialize: (value) => {
    if (value instanceof Date) return value.toISOString();
    return parseDate(value).toISOString();
  },
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});
