import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { commitFiles } from '../../src/io/atomic-folder.js';
import { openFileSource } from '../../src/io/index.js';
import { goneProcessId } from '../helpers/gone-process.js';
import { makeTempDir } from '../helpers/temp.js';
import { withTempDir } from '../helpers/temp-dir.js';

test('commitFiles removes what writers that are gone left behind, and keeps what running ones are writing', () =>
  withTempDir((dir) => {
    const gone = goneProcessId();
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

test('a stage left complete by a killed writer is moved into place when the folder is next opened; an incomplete one is dropped', () =>
  withTempDir((dir) => {
    const gone = goneProcessId();
    const stage = (name: string, files: Record<string, string>, complete: boolean) => {
      const path = join(dir, `.files.tmp-${gone}-${name}`);
      mkdirSync(path);
      for (const [f, text] of Object.entries(files)) writeFileSync(join(path, f), text);
      if (complete) writeFileSync(join(path, '.complete'), '');
    };
    writeFileSync(join(dir, 'a.json'), 'old a');
    writeFileSync(join(dir, 'b.json'), 'new b');
    stage('0000000a', { 'a.json': 'new a', 'b.json': 'new b' }, true);
    stage('0000000b', { 'a.json': 'partial' }, false);
    openFileSource(dir);
    assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.json']);
    assert.deepEqual(['a.json', 'b.json'].map((f) => readFileSync(join(dir, f), 'utf8')), ['new a', 'new b']);
  }));

test('two processes opening a folder at once both finish the same interrupted save without error', async () => {
  const io = pathToFileURL(join(process.cwd(), 'dist/src/io/index.js')).href;
  const script = `import('${io}').then((io) => { try { io.openFileSource(process.argv[1]); } catch (e) { console.log(e.message); } })`;
  const open = (dir: string) =>
    new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', () => resolve(out));
    });
  const gone = goneProcessId();
  const { dir: root, remove } = makeTempDir();
  try {
    for (let trial = 0; trial < 25; trial++) {
      const dir = join(root, String(trial));
      const stage = join(dir, `.files.tmp-${gone}-0000000a`);
      mkdirSync(stage, { recursive: true });
      for (const f of 'abcdefgh') {
        writeFileSync(join(dir, `${f}.json`), 'old');
        writeFileSync(join(stage, `${f}.json`), 'new');
      }
      writeFileSync(join(stage, '.complete'), '');
      assert.deepEqual(await Promise.all([open(dir), open(dir)]), ['', ''], `trial ${trial}`);
      assert.deepEqual(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8')), Array(8).fill('new'));
    }
  } finally {
    remove();
  }
});
