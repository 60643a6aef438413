// The broker's version: package.json's, the one place it is written (`npm version` changes
// it), read once. The banner, the start's log line, the build-info metric and the traces'
// `service.version` all say it, so an operator running several instances sees which runs what.

import { readFileSync } from 'node:fs';

export const BROKER_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
