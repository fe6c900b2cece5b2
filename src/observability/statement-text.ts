// What logs and traces say of a SQL statement: its text, every string literal in it replaced by
// '…'. Values travel as parameters, which neither carries (db/statement-spans.ts); but on Citus
// some statements have the organisation written into their text (db/coordinator-plans.ts), and
// a literal is a value all the same. The rest of the text still tells which statement ran.
const STRING_LITERAL = /(?<![\w$])[Ee]?'(?:[^']|'')*'/g;

export const statementText = (sql: string): string => (sql.includes("'") ? sql.replace(STRING_LITERAL, "'…'") : sql);
