// Running peftjs verbs in this process: options parsed as the command line would be, output captured.
import { Writable } from 'node:stream';
import { Options, parseArgs, type VerbSpec } from '../../src/cli/args.js';

export function verbOptions(verb: VerbSpec, argv: readonly string[]): Options {
  return new Options(parseArgs(verb, argv).values);
}

/** A stream that keeps what is written to it. */
export function textSink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return Object.assign(sink, { text: () => chunks.join('') });
}
