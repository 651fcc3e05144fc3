import { unwrapResolverError } from '@apollo/server/errors';
import { HttpException } from '@nestjs/common';
import type { GraphQLFormattedError } from 'graphql';

/**
 * What a GraphQL client may see of an error: our own HTTP exceptions (validation, auth) and GraphQL's parse
 * and validation errors. Anything else (a ClickHouse error quoting SQL, a bug) becomes a bare internal error.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const inner = unwrapResolverError(error);
  // Nothing underneath: GraphQL's own parse or validation error, about the document the client sent.
  if (inner === error || inner instanceof HttpException) return formatted;
  return { message: 'internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
