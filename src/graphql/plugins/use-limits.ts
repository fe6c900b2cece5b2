// Query limits (PRODUCT §10): depth, aliases and cost, each refused with its own sub-code. The cost
// graphql-armor computes for each operation is also kept (on its OperationDefinitionNode, which
// yoga's parse cache reuses for a repeated query), so a request is charged that same cost against
// its rate limit (issue 21, plugins/use-rate-limit.ts): one computation of cost, not two. Only the
// charge also counts page sizes given as variables: graphql-armor multiplies by a literal `first`
// alone, and validation never sees variables; so for the charge the same rule is run once more on
// the operation with those variables' values written in (and kept per value).
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { type DocumentNode, getOperationAST, type GraphQLError, type GraphQLSchema, Kind, type OperationDefinitionNode, validate, type ValidationContext, type ValidationRule, visit } from 'graphql';
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

/** Costs of operations with their page-size variables written in, per operation and values. */
const sizedCosts = new WeakMap<OperationDefinitionNode, Map<string, number>>();

const PAGE_SIZE_ARGUMENTS = new Set(['first', 'last']);

/** Per operation: the variables it passes as `first` or `last` (in it or its fragments), with their defaults. */
const pageSizeVariableNames = new WeakMap<OperationDefinitionNode, { name: string; fallback: number | undefined }[]>();

/** The page-size variables of this request's operation that are more than 1, with their values. */
function pageSizeVariables(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): Map<string, number> {
  let names = pageSizeVariableNames.get(operation);
  if (!names) {
    const found = new Set<string>();
    visit(document, {
      Argument(node) {
        if (PAGE_SIZE_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) found.add(node.value.name.value);
      },
    });
    names = [...found].map((name) => {
      const fallback = operation.variableDefinitions?.find((d) => d.variable.name.value === name)?.defaultValue;
      return { name, fallback: fallback?.kind === Kind.INT ? Number(fallback.value) : undefined };
    });
    pageSizeVariableNames.set(operation, names);
  }
  const sizes = new Map<string, number>();
  for (const { name, fallback } of names) {
    const value = variables?.[name] ?? fallback;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 1) sizes.set(name, value);
  }
  return sizes;
}

/**
 * The graphql-armor cost of the operation a request executes, page sizes given as variables
 * included. Validation gave the cost without them; should a cached validation have outlived it,
 * the same rule computes it again. A cost over the limit (only possible with such variables)
 * counts as the limit.
 */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null, variables?: Record<string, unknown>): number {
  const operation = getOperationAST(document, operationName);
  if (!operation) return 0;
  const sizes = pageSizeVariables(document, operation, variables);
  if (sizes.size === 0) {
    if (!costs.has(operation)) validate(schema, document, [markOperation, costRule]);
    return costs.get(operation) ?? QUERY_LIMITS.cost;
  }
  const key = JSON.stringify([...sizes].sort());
  let known = sizedCosts.get(operation);
  if (!known) sizedCosts.set(operation, (known = new Map()));
  const cached = known.get(key);
  if (cached !== undefined) return cached;
  // Only this operation and the fragments, each variable written in as the literal it stands for.
  const sized = visit(
    { ...document, definitions: document.definitions.filter((d) => d === operation || d.kind === Kind.FRAGMENT_DEFINITION) },
    {
      Argument(node) {
        if (!PAGE_SIZE_ARGUMENTS.has(node.name.value) || node.value.kind !== Kind.VARIABLE || !sizes.has(node.value.name.value)) return undefined;
        return { ...node, value: { kind: Kind.INT, value: String(sizes.get(node.value.name.value)) } };
      },
    },
  );
  const sizedOperation = sized.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  validate(schema, sized, [markOperation, costRule]);
  const cost = costs.get(sizedOperation) ?? QUERY_LIMITS.cost;
  // A handful of page sizes per operation in practice; bounded all the same.
  if (known.size < 100) known.set(key, cost);
  return cost;
}

export function useLimits() {
  return [
    maxDepthPlugin({ n: QUERY_LIMITS.depth, flattenFragments: true, ...refuseWith('QUERY_TOO_DEEP') }),
    maxAliasesPlugin({ n: QUERY_LIMITS.aliases, ...refuseWith('TOO_MANY_ALIASES') }),
    useCostLimit(),
  ];
}
