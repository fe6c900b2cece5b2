// The session tables: sessions, their access and refresh tokens, and the principal version read with them.
import type { ColumnType, Generated } from 'kysely';
import type { Timestamp } from '../../db/column-types.ts';

export interface SessionTable {
  org_id: string;
  id: string;
  account_id: string | null;
  connection_id: string | null;
  client_id: string;
  scopes: string[];
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  /** The client address of the latest recorded use, or of the sign-in (migration 022). */
  last_ip: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AccessTokenTable {
  token_hash: string;
  org_id: string;
  session_id: string;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface PrincipalVersionTable {
  org_id: string;
  version: number;
  /** On Citus, statements that changed what a credential lookup reads (migration 027); 0 elsewhere. */
  credentials: Generated<number>;
}

export interface RefreshTokenTable {
  token_hash: string;
  org_id: string;
  session_id: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}
