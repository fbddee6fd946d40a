// Prints the -march flag for the native build: the host's own ISA by default (the addon is built
// on the machine that runs it), or PEFTJS_MARCH when set (e.g. x86-64-v3 for a portable build).
import { execFileSync } from 'node:child_process';

const wanted = process.env.PEFTJS_MARCH ?? 'native';
let flag = `-march=${wanted}`;
try {
  execFileSync('g++', [flag, '-x', 'c++', '-E', '-'], { input: '', stdio: ['pipe', 'ignore', 'ignore'] });
} catch {
  flag = '-march=x86-64';
}
process.stdout.write(flag);
