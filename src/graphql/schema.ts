// Builds the schema: every module's GraphQL definitions register on the one builder.
import { lexicographicSortSchema } from 'graphql';
import '../modules/account-link/account-link.graphql.ts';
import '../modules/admin-key/admin-key.graphql.ts';
import '../modules/audit/audit.graphql.ts';
import '../modules/audit-stream/audit-stream.graphql.ts';
import '../modules/bitbucket-token/bitbucket-token.graphql.ts';
import '../modules/cli-permission/cli-permission.graphql.ts';
import '../modules/connection/connection.graphql.ts';
import '../modules/ingestion/ingestion.graphql.ts';
import '../modules/ip-allowlist/ip-allowlist.graphql.ts';
import '../modules/object/object.graphql.ts';
import '../modules/object/object-accessors.graphql.ts';
import '../modules/org/org.graphql.ts';
import '../modules/org/people.graphql.ts';
import '../modules/rate-limit/rate-limit.graphql.ts';
import '../modules/relationship/relationship.graphql.ts';
import '../modules/session/session.graphql.ts';
import { builder } from './builder.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
