// The client's version, from the package it ships in; the server records it from the User-Agent.
import { readFileSync } from 'node:fs';

export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
export const USER_AGENT = `twg/${VERSION} node/${process.versions.node}`;
