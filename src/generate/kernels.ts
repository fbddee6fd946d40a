// Signatures of the generation kernels in src/native/logits.cc.
import { native } from '../native/binding.js';

type Buf = ArrayBuffer;

export interface LogitsKernels {
  topKFilter(x: Buf, rows: number, n: number, k: number): void;
  topPFilter(x: Buf, rows: number, n: number, threshold: number): void;
  sampleRows(x: Buf, out: Buf, rows: number, n: number, seedHi: number, seedLo: number, counter: number): void;
}

export const kernels = native as unknown as LogitsKernels;
