import { describe, expect, it } from 'vitest';
import { AnalyzeSchedule } from '../../src/db/pglite-dialect.ts';

describe('the embedded database ANALYZE schedule', () => {
  it('is due once the rows written since the last ANALYZE reach a fifth of all rows written', () => {
    const schedule = new AnalyzeSchedule(500); // a small minimum keeps the arithmetic readable
    schedule.noteWrites(499);
    expect(schedule.due()).toBe(false);
    schedule.noteWrites(1);
    expect(schedule.due()).toBe(true);
    schedule.analyzed();
    schedule.noteWrites(9_500);
    expect(schedule.due()).toBe(true);
    schedule.analyzed();
    schedule.noteWrites(1_999);
    expect(schedule.due()).toBe(false);
    schedule.noteWrites(501);
    expect(schedule.due()).toBe(true);
  });
});
