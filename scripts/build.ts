// npm run build: the server as JavaScript in dist/, for production (README "Operating it"). Node
// then loads plain modules instead of compiling TypeScript as it imports them (tsx): the same code,
// about 60 MB less resident memory (issue 16, item 7: measured in bench/RESULTS.md) and no
// compiler in the serving process. tsc type-checks as it emits and emits nothing on an error;
// the files the server reads from beside its modules (the admin page's and GraphiQL's static
// folders) are copied next to their modules.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dist = path.join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

/** Copies every `static` folder under `folder` to the same place under dist/. */
function copyStaticFolders(folder: string): void {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const inside = path.join(folder, entry.name);
    if (entry.name === 'static') cpSync(inside, path.join(dist, path.relative(root, inside)), { recursive: true });
    else copyStaticFolders(inside);
  }
}
copyStaticFolders(path.join(root, 'src'));
process.stdout.write(`built ${path.relative(process.cwd(), path.join(dist, 'src', 'main.js'))}\n`);
