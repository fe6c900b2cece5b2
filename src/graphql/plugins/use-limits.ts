// Query limits (PRODUCT §10): depth, aliases and cost, each refused with its own sub-code. The cost
// graphql-armor computes for each operation is also kept (on its OperationDefinitionNode, which
// yoga's parse cache reuses for a repeated query), so a request is charged that same cost against
// its rate limit (issue 21, plugins/use-rate-limit.ts): one computation of cost, not two.
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { type DocumentNode, getOperationAST, type GraphQLError, type GraphQLSchema, type OperationDefinitionNode, validate, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BadUserInputError } from '../../shared/errors.ts';

// Cost units of graphql-armor: page sizes (first) multiply, each level weighs 1.5×; a page of 100
// objects with container and 10 relationships each costs about 130,000, nested pages of 100 × 100 millions.
// Only a literal `first` multiplies: a page size given as a variable counts as 1.
export const QUERY_LIMITS = { depth: 12, aliases: 30, cost: 500_000 };

const refuseWith = (subCode: string) => ({
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => {
      context?.reportError(new BadUserInputError(subCode, error.message.replace(/^Syntax Error: /, '')));
    },
  ],
});

/** The cost of each operation that passed the cost limit. */
const costs = new WeakMap<OperationDefinitionNode, number>();
/** The operation the cost rule is in: graphql-armor tells its callback the cost, not the operation. */
const visiting = new WeakMap<ValidationContext, OperationDefinitionNode>();

/** Runs before graphql-armor's cost rule on each operation (rules visit in the order they were added). */
const markOperation: ValidationRule = (context) => ({
  OperationDefinition: { enter: (node) => void visiting.set(context, node) },
});

const costRule = costLimitRule({
  maxCost: QUERY_LIMITS.cost,
  ...refuseWith('QUERY_TOO_COSTLY'),
  onAccept: [
    (context: ValidationContext | null, { n }: { n: number }) => {
      const operation = context && visiting.get(context);
      if (operation) costs.set(operation, n);
    },
  ],
});

function useCostLimit(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(markOperation);
      addValidationRule(costRule);
    },
  };
}

/**
 * The graphql-armor cost of the operation a request executes. Validation gave it; should a cached
 * validation have outlived it, the same rule computes it again.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  if (!costs.has(operation)) validate(schema, document, [markOperation, costRule]);
  return costs.get(operation) ?? QUERY_LIMITS.cost;
}

export function useLimits() {
  return [
    maxDepthPlugin({ n: QUERY_LIMITS.depth, flattenFragments: true, ...refuseWith('QUERY_TOO_DEEP') }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...refuseWith('TOO_MANY_ALIASES') }),
    useCostLimit(),
  ];
}
