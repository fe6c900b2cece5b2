import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../src/db/pglite.ts';

// Only about the embedded database: the PostgreSQL pass would repeat it exactly.
describe.skipIf(Boolean(process.env.DATABASE_URL))('the embedded database folder', () => {
  it('refuses a second opener with a clear error while the first holds it', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-lock-')), 'data');
    const first = await openPglite({ dataDir });
    try {
      await expect(openPglite({ dataDir })).rejects.toThrow(/in use by process \d+/);
    } finally {
      await first.close();
    }
    expect(fs.existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'teamgraph-lock-')), 'data');
    fs.writeFileSync(`${dataDir}.lock`, '999999999');
    const handle = await openPglite({ dataDir });
    expect(fs.readFileSync(`${dataDir}.lock`, 'utf8')).toBe(String(process.pid));
    await handle.close();
  });
});
