import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { allVariables } from './lib/config-docs.ts';

test('the README documents every configuration variable and both commands', async () => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
  // Table rows as [variable, used by], whatever the column padding.
  const rows = readme
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map((cells) => `${cells[1]} ${cells[2]}`);
  for (const v of await allVariables()) {
    assert.ok(rows.includes(`\`${v.name}\` ${v.usedBy}`), `README.md lacks ${v.name} (${v.usedBy}); regenerate with node scripts/lib/config-docs.ts`);
  }
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /^npm test$/m);
});
