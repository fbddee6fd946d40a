// Memory check for the safetensors reader (not a test): writes a 1 GiB safetensors file to the OS
// temp directory from a child process, then loads it tensor by tensor here, keeping every tensor,
// and reports this process's peak RSS, which should stay close to the bytes kept (target < 1.3 GB).
// Run: npx tsc -p . && node dist/bench/load-rss.js
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { full, type Tensor, toDtype } from '../src/engine/index.js';
import { SafetensorsFile, saveSafetensors } from '../src/io/index.js';

const SIDE = 4096;
const F32_TENSORS = 14; // 64 MiB each
const BF16_TENSORS = 4; // 32 MiB each: 1 GiB in all
const MiB = 1024 * 1024;

function writeCheckpoint(path: string): void {
  const tensors: Record<string, Tensor> = {};
  for (let i = 0; i < F32_TENSORS; i++) tensors[`layers.${i}.weight`] = full([SIDE, SIDE], i + 0.5);
  for (let i = 0; i < BF16_TENSORS; i++) {
    const f32 = full([SIDE, SIDE], -i - 1);
    tensors[`embed.${i}.weight`] = toDtype(f32, 'bfloat16');
    f32.dispose();
  }
  saveSafetensors(path, tensors, { format: 'pt' });
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function main(): void {
  const path = join(tmpdir(), `peftjs-load-rss-${process.pid}.safetensors`);
  try {
    let started = performance.now();
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'write', path], { stdio: 'inherit' });
    if (child.status !== 0) throw new Error(`writer process failed with status ${child.status}`);
    const size = statSync(path).size;
    console.log(`wrote ${(size / MiB).toFixed(0)} MiB to ${path} in ${((performance.now() - started) / 1000).toFixed(2)} s (child process)`);

    const baseline = peakRssMb();
    started = performance.now();
    const file = SafetensorsFile.open(path);
    const kept = file.keys().map((key) => file.readTensor(key));
    file.close();
    const seconds = (performance.now() - started) / 1000;
    const keptBytes = kept.reduce((sum, t) => sum + t.size * (t.dtype === 'bfloat16' ? 2 : 4), 0);
    const first = kept.find((t) => t.dtype === 'float32')!;
    if (first.data()[SIDE * SIDE - 1] !== 0.5) throw new Error('loaded values differ from the ones written');
    console.log(`loaded ${kept.length} tensors (${(keptBytes / MiB).toFixed(0)} MiB kept) in ${seconds.toFixed(2)} s (${(keptBytes / 1e9 / seconds).toFixed(2)} GB/s, file in page cache)`);
    console.log(`peak RSS before loading ${baseline} MB`);
    console.log(`SUMMARY load_1gb_peak_rss_mb=${peakRssMb()}`);
    for (const t of kept) t.dispose();
  } finally {
    rmSync(path, { force: true });
  }
}

if (process.argv[2] === 'write') writeCheckpoint(process.argv[3]!);
else main();
