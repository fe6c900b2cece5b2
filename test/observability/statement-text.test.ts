// What logs and traces say of a statement (src/observability/statement-text.ts): no string literal
// of its text, so that a value written into a statement (the organisation, on Citus) stays in the process.
import { describe, expect, it } from 'vitest';
import { statementText } from '../../src/observability/statement-text.ts';

describe('the text of a statement in logs and traces', () => {
  it('hides every string literal and keeps the rest', () => {
    expect(statementText(`select * from graph_object o where o.org_id = 'org_x' and o.id = $1`)).toBe(`select * from graph_object o where o.org_id = '…' and o.id = $1`);
    expect(statementText(`select 'it''s', E'a\\nb', "Col" from t where x = 'y'::text`)).toBe(`select '…', '…', "Col" from t where x = '…'::text`);
    expect(statementText(`select $1::text[] as keys`)).toBe(`select $1::text[] as keys`);
  });
});
