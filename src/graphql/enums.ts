// Enums of the public contract shared by several modules.
import { builder } from './builder.ts';

export const ProductEnum = builder.enumType('Product', {
  values: { JIRA: { value: 'jira' }, CONFLUENCE: { value: 'confluence' }, BITBUCKET: { value: 'bitbucket' }, GRAPH: { value: 'graph' } } as const,
});
export const PermissionCategoryEnum = builder.enumType('PermissionCategory', { values: ['READ', 'WRITE_AND_MANAGE', 'DELETE'] as const });
export const PrincipalTypeEnum = builder.enumType('PrincipalType', { values: ['USER', 'GROUP', 'ATLASSIAN_WORKSPACE', 'CONTAINER'] as const });
export const AclActionEnum = builder.enumType('AclAction', { values: ['VIEW', 'EDIT', 'DELETE'] as const });
export const GroupMemberTypeEnum = builder.enumType('GroupMemberType', { values: ['USER', 'GROUP'] as const });
export const RelationshipDirectionEnum = builder.enumType('RelationshipDirection', { values: ['OUTGOING', 'INCOMING', 'BOTH'] as const });
export const IngestionStatusEnum = builder.enumType('IngestionStatus', { values: ['ACCEPTED', 'STALE', 'REJECTED'] as const });
export const AuditOutcomeEnum = builder.enumType('AuditOutcome', {
  values: ['SUCCESS', 'RESTRICTED', 'DENIED', 'IP_BLOCKED', 'UNAUTHENTICATED', 'RATE_LIMITED', 'ERROR'] as const,
});
