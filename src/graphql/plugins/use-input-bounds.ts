// Bounds on what a client's GraphQL may be (issue 15, PRODUCT §10: no input may crash the server
// or hold it for long). The document: at most INPUT_BOUNDS.nesting levels of brackets (checked
// before the parser, which recurses and would run out of stack on a deeper one) and at most
// INPUT_BOUNDS.tokens tokens. Every string value, inline or in the variables: at most its input
// field's or argument's `maxLength` extension, else INPUT_BOUNDS.string characters, refused as a
// whole request with BAD_USER_INPUT STRING_TOO_LONG. Input types marked `validatedPerItem` (the
// ingestion items, PRODUCT §2) are left to their own per-item checks, so one long field rejects
// its item, not the batch; JSON values are bounded by the body size and those checks too.
import {
  type DocumentNode,
  type GraphQLInputField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isListType,
  isScalarType,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { BadUserInputError } from '../../shared/errors.ts';

export const INPUT_BOUNDS = { nesting: 64, tokens: 20_000, string: 10_000 };

/** Pothos `extensions` of an input type whose values are validated item by item. */
export const VALIDATED_PER_ITEM = { validatedPerItem: true } as const;

export function useInputBounds(): Plugin {
  return {
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        checkNesting(typeof source === 'string' ? source : source.body);
        return parseFn(source, { ...options, maxTokens: INPUT_BOUNDS.tokens });
      });
    },
    onExecute({ args }) {
      // A variable the request leaves out takes its default, which is checked where it is used too.
      const given = (args.variableValues ?? {}) as Record<string, unknown>;
      const variables: Record<string, unknown> = {};
      for (const definition of getOperationAST(args.document, args.operationName)?.variableDefinitions ?? []) {
        const name = definition.variable.name.value;
        variables[name] = name in given ? given[name] : definition.defaultValue ? valueFromASTUntyped(definition.defaultValue) : undefined;
      }
      const bounds = boundsOf(args.schema, args.document);
      if (bounds.tooLong) throw tooLong(bounds.tooLong.where, bounds.tooLong.length, bounds.tooLong.max);
      for (const use of bounds.uses) checkValue(variables[use.name], use.type, `$${use.name}`, use.max);
    },
  };
}

/** Refuses a document whose brackets nest deeper than the bound, outside strings and comments. */
function checkNesting(body: string): void {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > INPUT_BOUNDS.nesting) {
        throw new BadUserInputError('DOCUMENT_TOO_DEEP', `The document nests brackets deeper than ${INPUT_BOUNDS.nesting} levels.`);
      }
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      depth--;
    } else if (c === 0x23) {
      while (i < body.length && body.charCodeAt(i) !== 0x0a && body.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      i = endOfString(body, i);
    }
  }
}

/** The index of the closing quote of the string (or block string) opened at `start`. */
function endOfString(body: string, start: number): number {
  if (body.startsWith('"""', start)) {
    for (let i = start + 3; i < body.length; i++) {
      if (body.charCodeAt(i) === 0x5c && body.startsWith('"""', i + 1)) i += 3;
      else if (body.startsWith('"""', i)) return i + 2;
    }
    return body.length;
  }
  for (let i = start + 1; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22 || c === 0x0a || c === 0x0d) return i;
  }
  return body.length;
}

const exempt = (type: GraphQLInputType) => isInputObjectType(type) && type.extensions?.validatedPerItem === true;
const maxLengthOf = (field: { extensions?: Record<string, unknown> | null } | null | undefined) =>
  typeof field?.extensions?.maxLength === 'number' ? field.extensions.maxLength : INPUT_BOUNDS.string;

function tooLong(where: string, length: number, max: number): BadUserInputError {
  return new BadUserInputError('STRING_TOO_LONG', `${where} is ${length} characters long; at most ${max} are accepted.`);
}

/** Walks a variable's value as its type says: input objects by field, lists by item. */
function checkValue(value: unknown, type: GraphQLInputType, path: string, max: number): void {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (value === null || value === undefined) return;
  if (isListType(nullable)) {
    if (Array.isArray(value)) value.forEach((item, index) => checkValue(item, nullable.ofType, `${path}[${index}]`, max));
    else checkValue(value, nullable.ofType, path, max);
    return;
  }
  if (isInputObjectType(nullable)) {
    if (exempt(nullable) || typeof value !== 'object') return;
    const fields = nullable.getFields();
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      const definition: GraphQLInputField | undefined = fields[key];
      if (definition) checkValue(field, definition.type, `${path}.${key}`, maxLengthOf(definition));
    }
    return;
  }
  if (isScalarType(nullable) && nullable.name !== 'JSON' && typeof value === 'string' && value.length > max) throw tooLong(path, value.length, max);
}

/** What a document allows its strings: its inline strings' verdict, and where each variable is used. */
interface DocumentBounds {
  /** The first inline string over its bound (an error is made per request: errors are not shared). */
  tooLong: { where: string; length: number; max: number } | null;
  uses: { name: string; type: GraphQLInputType; max: number }[];
}

// yoga hands the same DocumentNode to every request of a cached document: it is read once.
const documents = new WeakMap<DocumentNode, DocumentBounds>();

/**
 * Every string of the operation, each against the argument or input field it is given to: the
 * inline ones, checked here, and the places the variables are used, with the type and bound of
 * each place, for each request's values to be checked against.
 */
function boundsOf(schema: GraphQLSchema, document: DocumentNode): DocumentBounds {
  const known = documents.get(document);
  if (known) return known;
  const bounds: DocumentBounds = { tooLong: null, uses: [] };
  const typeInfo = new TypeInfo(schema);
  let exemptDepth = 0;
  const limits: number[] = [];
  const limit = () => limits.at(-1) ?? INPUT_BOUNDS.string;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument: {
        enter: () => void limits.push(maxLengthOf(typeInfo.getArgument())),
        leave: () => void limits.pop(),
      },
      ObjectField: {
        enter: (node) => {
          const parent = getNamedType(typeInfo.getParentInputType() ?? undefined);
          limits.push(maxLengthOf(isInputObjectType(parent) ? parent.getFields()[node.name.value] : null));
        },
        leave: () => void limits.pop(),
      },
      ObjectValue: {
        enter: () => {
          const type = typeInfo.getInputType();
          if (exemptDepth > 0 || (type && exempt(getNamedType(type) as GraphQLInputType))) exemptDepth++;
        },
        leave: () => {
          if (exemptDepth > 0) exemptDepth--;
        },
      },
      Variable: (node) => {
        const type = typeInfo.getInputType();
        if (exemptDepth === 0 && type && limits.length > 0) bounds.uses.push({ name: node.name.value, type, max: limit() });
      },
      StringValue: (node) => {
        if (exemptDepth > 0 || bounds.tooLong) return;
        const type = getNamedType(typeInfo.getInputType() ?? undefined);
        if (type && isScalarType(type) && type.name === 'JSON') return;
        if (node.value.length > limit()) bounds.tooLong = { where: `A string at line ${locationOf(node)}`, length: node.value.length, max: limit() };
      },
    }),
  );
  documents.set(document, bounds);
  return bounds;
}

const locationOf = (node: { loc?: { startToken: { line: number; column: number } } }) => (node.loc ? `${node.loc.startToken.line}, column ${node.loc.startToken.column}` : '?');
