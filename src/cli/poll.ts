// Waiting on something a person finishes elsewhere (a device approval, a link in the browser):
// ask again every interval, and at once when they press Enter.
import { createInterface } from 'node:readline';

/** Calls `attempt` until it returns a value; `undefined` means not yet. Throws `expired()` past the deadline. */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, options: { intervalMs: () => number; deadline: number; expired: () => Error }): Promise<T> {
  const lines = process.stdin.readable ? createInterface({ input: process.stdin }) : null;
  let wake: (() => void) | null = null;
  lines?.on('line', () => wake?.());
  try {
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.intervalMs());
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (Date.now() > options.deadline) throw options.expired();
      const value = await attempt();
      if (value !== undefined) return value;
    }
  } finally {
    lines?.close();
  }
}
