// Query limits (PRODUCT §10): depth, aliases and cost, each refused with its own sub-code.
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLError, ValidationContext } from 'graphql';
import { BadUserInputError } from '../../shared/errors.ts';

// Cost units of graphql-armor: page sizes (first) multiply, each level weighs 1.5×; a page of 100
// objects with container and 10 relationships each costs about 130,000, nested pages of 100 × 100 millions.
export const QUERY_LIMITS = { depth: 12, aliases: 30, cost: 500_000 };

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
