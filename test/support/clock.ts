// A clock tests move by hand; it starts at a fixed instant and advances 1 ms per reading so
// that successive writes get distinct, ordered times.
import type { Clock } from '../../src/shared/clock.ts';

export class TestClock implements Clock {
  private current: number;
  constructor(start = Date.parse('2026-11-23T08:00:00.000Z')) {
    this.current = start;
  }
  now(): Date {
    this.current += 1;
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
