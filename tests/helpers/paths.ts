// Locations of committed test fixtures, resolved from the package root (tests run from dist/).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

export const repoRoot = findRoot();

export function fixturePath(...parts: string[]): string {
  return join(repoRoot, 'tests', 'fixtures', ...parts);
}
