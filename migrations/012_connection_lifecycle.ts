// The connection lifecycle and 3LO user links (issue 5): a connection can be disabled (its data
// stays but nobody sees it) or be deleted in resumable batches; it may declare a third-party
// OAuth provider through which accounts link themselves to its users, with the short-lived
// attempts of that flow.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table connection
      add column disabled_at timestamptz,
      -- set once when deletion starts; the rows go in batches and the connection row goes last
      add column deletion_started_at timestamptz;
    create table connection_link_provider (
      org_id text not null,
      connection_id text not null,
      -- null when the endpoints were given rather than discovered
      issuer text,
      authorization_endpoint text not null,
      token_endpoint text not null,
      userinfo_endpoint text not null,
      client_id text not null,
      -- AES-256-GCM under the server's secret key: the secret is sent to the provider, so it
      -- cannot be hashed
      client_secret_sealed text not null,
      scopes text[] not null,
      external_id_field text not null,
      updated_at timestamptz not null,
      primary key (org_id, connection_id),
      foreign key (org_id, connection_id) references connection (org_id, id) on delete cascade
    );
    create table link_attempt (
      state_hash text primary key,
      org_id text not null,
      connection_id text not null,
      account_id text not null,
      -- the browser that started the attempt holds the matching cookie
      browser_binding_hash text not null,
      code_verifier text not null,
      expires_at timestamptz not null,
      foreign key (org_id, connection_id) references connection (org_id, id) on delete cascade,
      foreign key (org_id, account_id) references account (org_id, id)
    );
    -- A disabled connection's objects leave every principal set's view, so a change of state
    -- must invalidate cached sets like any other fact they depend on (migration 006).
    create trigger connection_bump_principal_version_u after update on connection
      referencing new table as changed_rows for each statement execute function bump_principal_version();
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    drop trigger connection_bump_principal_version_u on connection;
    drop table link_attempt, connection_link_provider;
    alter table connection drop column disabled_at, drop column deletion_started_at;
  `.execute(db);
}
