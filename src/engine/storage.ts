// A reference-counted native buffer. Tensors that share memory (reshape views, the copies autograd
// saves for backward) each hold one reference; the memory is freed when the last one is released.
import { native } from '../native/binding.js';

export class Storage {
  private refs = 1;
  private f32View: Float32Array | null = null;
  private i32View: Int32Array | null = null;
  private u16View: Uint16Array | null = null;

  private constructor(
    readonly buffer: ArrayBuffer,
    readonly bytes: number,
  ) {}

  static allocate(bytes: number, zero = false): Storage {
    return new Storage(native.allocBuffer(bytes, zero), bytes);
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
      this.f32View = this.i32View = this.u16View = null;
      native.freeBuffer(this.buffer);
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
