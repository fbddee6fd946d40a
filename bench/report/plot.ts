// `node dist/bench/report/plot.js <out.svg> <bench output>...`: the chart of docs/performance.md
// from saved `npm run bench -- <name>` printouts (see ratio-chart.ts).
import { readFileSync } from 'node:fs';
import { writeTextAtomic } from '../../src/io/atomic-write.js';
import { parseBenchOutput, ratioChart } from './ratio-chart.js';

const [out, ...inputs] = process.argv.slice(2);
if (out === undefined || inputs.length === 0) {
  console.error('usage: node dist/bench/report/plot.js <out.svg> <bench output>...');
  process.exit(2);
}
const bars = inputs.flatMap((path) => parseBenchOutput(readFileSync(path, 'utf8'), path));
writeTextAtomic(out, ratioChart(bars, 'peft.js throughput / PyTorch + PEFT, same machine, same command (higher is better)'));
