// The PyTorch side of a benchmark: one persistent Python process (bench/torch_worker.py) spoken to
// in JSON lines. It prepares a case, then times N calls of it on request, so our side and PyTorch's
// are measured the same way and interleaved in the same command.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SETUP_HINT = 'run `npm run fixtures` (or tools/setup-python.sh) to create .venv-py, set PEFTJS_PYTHON, or pass --no-torch';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    if (dirname(dir) === dir) throw new Error('bench: cannot find the package root');
    dir = dirname(dir);
  }
  return dir;
}

interface Reply {
  ok?: boolean;
  error?: string;
  [key: string]: unknown;
}

export class TorchWorker {
  private readonly pending: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: Error | null = null;

  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    readonly python: string,
  ) {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const waiter = this.pending.shift();
      if (waiter === undefined) return;
      try {
        waiter.resolve(JSON.parse(line) as Reply);
      } catch {
        waiter.reject(new Error(`bench: the Python worker wrote a line that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    const fail = (why: string) => {
      this.exited = new Error(`bench: the Python worker (${python}) ${why}${this.stderr ? `:\n${this.stderr.trimEnd()}` : ''}\n${SETUP_HINT}`);
      for (const w of this.pending.splice(0)) w.reject(this.exited);
    };
    proc.on('error', (e) => fail(`could not start (${e.message})`));
    proc.on('exit', (code, signal) => fail(`exited (${signal ?? `code ${code}`})`));
  }

  /** Starts the worker with `threads` intra-op threads; resolves once torch is imported. */
  static async start(threads: number): Promise<{ worker: TorchWorker; torchVersion: string }> {
    const root = repoRoot();
    const python = process.env.PEFTJS_PYTHON ?? join(root, '.venv-py', 'bin', 'python');
    if (!existsSync(python)) throw new Error(`bench: no Python interpreter at ${python}; ${SETUP_HINT}`);
    const proc = spawn(python, [join(root, 'bench', 'torch_worker.py'), '--threads', String(threads)], {
      env: { ...process.env, OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) },
    });
    const worker = new TorchWorker(proc, python);
    const hello = await worker.next();
    return { worker, torchVersion: String(hello.torch) };
  }

  private next(): Promise<Reply> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  private async request(message: Record<string, unknown>): Promise<Reply> {
    const reply = this.next();
    this.proc.stdin.write(`${JSON.stringify(message)}\n`);
    const r = await reply;
    if (r.ok !== true) throw new Error(`bench: the Python worker failed on ${JSON.stringify(message)}: ${r.error ?? 'no reason given'}`);
    return r;
  }

  /** Builds the callable of `bench` for these case parameters. */
  async prepare(bench: string, params: Record<string, unknown>): Promise<void> {
    await this.request({ cmd: 'prepare', bench, params });
  }

  /** Seconds taken by `iters` back-to-back calls of the prepared callable. */
  async time(iters: number): Promise<number> {
    return Number((await this.request({ cmd: 'time', iters })).seconds);
  }

  /** The worker process's resident memory now and its peak so far, in MB. */
  async rssMb(): Promise<{ current: number; peak: number }> {
    const r = await this.request({ cmd: 'rss' });
    return { current: Number(r.current_mb), peak: Number(r.peak_mb) };
  }

  async release(): Promise<void> {
    await this.request({ cmd: 'release' });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin.end();
    await done;
  }
}
