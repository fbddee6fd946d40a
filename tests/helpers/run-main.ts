// Runs the peftjs CLI in this process (main() with captured output), for tests that compare its
// output with library calls.
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliResult } from './run-cli.js';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

export async function runMain(args: readonly string[]): Promise<CliResult> {
  const out = capture();
  const err = capture();
  const status = await main(args, out.stream, err.stream);
  return { status, stdout: out.text(), stderr: err.text() };
}
