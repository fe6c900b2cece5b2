// Query limits (PRODUCT §10): depth, aliases and cost, each refused with its own sub-code.
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext } from 'graphql';
import { BadUserInputError } from '../../shared/errors.ts';

export const QUERY_LIMITS = { depth: 12, aliases: 30, cost: 20_000 };

const refuseWith = (subCode: string) => ({
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(new BadUserInputError(subCode, error.message.replace(/^Syntax Error: /, '')));
    },
  ],
});

export function useLimits() {
  return [
    maxDepthPlugin({ n: QUERY_LIMITS.depth, flattenFragments: true, ...refuseWith('QUERY_TOO_DEEP') }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...refuseWith('TOO_MANY_ALIASES') }),
    costLimitPlugin({ maxCost: QUERY_LIMITS.cost, ...refuseWith('QUERY_TOO_COSTLY') }),
  ];
}
