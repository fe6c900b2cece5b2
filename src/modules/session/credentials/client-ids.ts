// Every client id a credential can act under (PRODUCT §5, §6, §8), named in one place. A
// connection's own OAuth client ids are the operator's (connection.client_id); these are the
// product's.

/** The `twg` command line: a public OAuth client whose grants the CLI permission settings bound. */
export const CLI_CLIENT_ID = 'twg-cli';
/** The admin page: a public OAuth client only org admins may sign in to. */
export const ADMIN_CLIENT_ID = 'teamgraph-admin';
/** The client id admin API keys act under; no OAuth client has it. */
export const ADMIN_KEY_CLIENT_ID = 'admin-api-key';
/** The client id recorded for requests a Bitbucket token alone authenticates (PRODUCT §8); no OAuth client has it. */
export const BITBUCKET_CLIENT_ID = 'bitbucket-token';
