// The closed set of public error codes (PRODUCT §10). Anything that is not an AppError is
// masked to INTERNAL with a request id by the error policy and logged in full on the server.
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'RESTRICTED'
  | 'FORBIDDEN'
  | 'IP_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INTERNAL';

/** The HTTP status of a refusal outside GraphQL (a route's or the edge's). */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  RESTRICTED: 403,
  FORBIDDEN: 403,
  IP_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

export type RestrictionReason = 'NOT_ALLOWED_BY_ORGANIZATION' | 'NOT_GRANTED_TO_SESSION';

export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...extensions } });
  }
  get code(): ErrorCode {
    return this.extensions.code as ErrorCode;
  }
}

export class BadUserInputError extends AppError {
  constructor(subCode: string, message: string) {
    super('BAD_USER_INPUT', message, { subCode });
  }
}

export class RestrictedError extends AppError {
  constructor(permission: string, reason: RestrictionReason) {
    const advice = /^(repository|pullrequest):/.test(permission)
      ? 'Bitbucket needs a Bitbucket token with that scope: create one (createBitbucketToken) and send it in X-Bitbucket-Token.'
      : reason === 'NOT_GRANTED_TO_SESSION'
        ? 'This session was not granted it; sign in again with `twg login` to request it.'
        : 'Your organisation does not allow the CLI to use it; signing in again will not help.';
    super('RESTRICTED', `This needs the permission ${permission}. ${advice}`, { permission, reason });
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/**
 * A request over its credential's budget (issue 21): it did not run. `retryAfter` is in seconds,
 * null when waiting cannot help (the request alone costs more than the whole budget).
 */
export class RateLimitedError extends AppError {
  constructor(message: string, details: { limit: number; cost: number; remaining: number; resetAt: string; retryAfter: number | null }) {
    super('RATE_LIMITED', message, details);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}
