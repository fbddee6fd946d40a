// A reference-counted native buffer. Tensors that share memory (reshape views, the copies autograd
// saves for backward) each hold one reference; the memory is freed when the last one is released.
// The live counters cover storages allocated and not yet released (a storage left to V8's GC stays
// counted), which is what leak tests need.
import { constants } from 'node:buffer';
import { native } from '../native/binding.js';
import { releaseToPool, takePooled } from './buffer-pool.js';
import { EngineError } from './errors.js';

export class Storage {
  private static live = 0;
  private static liveByteCount = 0;
  private refs = 1;
  private f32View: Float32Array | null = null;
  private i32View: Int32Array | null = null;
  private u16View: Uint16Array | null = null;

  private constructor(
    readonly buffer: ArrayBuffer,
    readonly bytes: number,
  ) {
    Storage.live++;
    Storage.liveByteCount += bytes;
  }

  /**
   * The largest storage there can be: the native buffers are Node buffers, and asking for a larger
   * one would abort the process (Node frees the memory when it refuses, then the addon frees it again).
   */
  static readonly maxBytes: number = constants.MAX_LENGTH;

  static allocate(bytes: number, zero = false): Storage {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new EngineError('Storage.allocate', 'bytes', `must be a non-negative integer, got ${bytes}`);
    if (bytes > Storage.maxBytes) throw new EngineError('Storage.allocate', 'bytes', `must be at most ${Storage.maxBytes}, the largest buffer Node holds, got ${bytes}`);
    return new Storage(takePooled(bytes, zero) ?? native.allocBuffer(bytes, zero), bytes);
  }

  /** Storages allocated and not yet released. */
  static get liveCount(): number {
    return Storage.live;
  }

  /** Bytes held by the storages counted in liveCount. */
  static get liveBytes(): number {
    return Storage.liveByteCount;
  }

  get released(): boolean {
    return this.refs <= 0;
  }

  /** True when more than one tensor handle shares this memory. */
  get shared(): boolean {
    return this.refs > 1;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) {
      Storage.live--;
      Storage.liveByteCount -= this.bytes;
      this.f32View = this.i32View = this.u16View = null;
      releaseToPool(this.buffer, this.bytes);
    }
  }

  f32(): Float32Array {
    return (this.f32View ??= new Float32Array(this.buffer, 0, this.bytes >> 2));
  }

  i32(): Int32Array {
    return (this.i32View ??= new Int32Array(this.buffer, 0, this.bytes >> 2));
  }

  u16(): Uint16Array {
    return (this.u16View ??= new Uint16Array(this.buffer, 0, this.bytes >> 1));
  }
}
