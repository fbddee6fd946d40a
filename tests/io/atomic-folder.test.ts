import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitFiles } from '../../src/io/atomic-folder.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** The pid of a process that has exited. */
function goneProcess(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('commitFiles removes what writers that are gone left behind, and keeps what running ones are writing', () =>
  withTempDir((dir) => {
    const gone = goneProcess();
    const leftovers = [`.files.tmp-${gone}-deadbeef`, `.adapter_model.safetensors.${gone}.0badf00d.tmp`];
    const running = [`.files.tmp-${process.ppid}-deadbeef`, `.config.json.${process.ppid}.0badf00d.tmp`];
    mkdirSync(join(dir, leftovers[0]!));
    writeFileSync(join(dir, leftovers[1]!), 'partial');
    mkdirSync(join(dir, running[0]!));
    writeFileSync(join(dir, running[1]!), 'in progress');
    writeFileSync(join(dir, 'notes.txt'), 'kept');
    commitFiles(dir, (staging) => writeFileSync(join(staging, 'adapter_config.json'), '{}'));
    assert.deepEqual(readdirSync(dir).sort(), ['adapter_config.json', 'notes.txt', ...running].sort());
  }));

test('commitFiles replaces nothing when filling fails, and leaves no staging folder', () =>
  withTempDir((dir) => {
    writeFileSync(join(dir, 'a.json'), 'old a');
    writeFileSync(join(dir, 'b.json'), 'old b');
    assert.throws(
      () =>
        commitFiles(dir, (staging) => {
          writeFileSync(join(staging, 'a.json'), 'new a');
          throw new Error('interrupted');
        }),
      /interrupted/,
    );
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.json']);
    assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), 'old a');
    commitFiles(dir, (staging) => {
      writeFileSync(join(staging, 'a.json'), 'new a');
      writeFileSync(join(staging, 'b.json'), 'new b');
    });
    assert.deepEqual(['a.json', 'b.json'].map((f) => readFileSync(join(dir, f), 'utf8')), ['new a', 'new b']);
    const fresh = join(dir, 'new', 'adapter');
    assert.throws(() => commitFiles(fresh, () => assert.fail('refused')), /refused/);
    assert.equal(existsSync(join(dir, 'new')), false);
  }));
