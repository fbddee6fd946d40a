// A restricted unpickler: a stack machine over the pickle opcodes (protocols 2-5) that builds plain
// values (null, booleans, numbers, bigints, strings, Uint8Array bytes, arrays for lists and tuples,
// Maps for dicts) and nothing else. Globals are resolved only through `findGlobal`, which throws for
// anything it does not allow, and REDUCE applies only the PickleFunctions it returns, so no code
// named by the file ever runs. Every opcode consumes input, so parsing ends in linear time.

/** A callable the caller's findGlobal allows REDUCE to apply. */
export class PickleFunction {
  constructor(
    readonly qualifiedName: string,
    readonly apply: (args: unknown[]) => unknown,
  ) {}
}

export interface PickleHooks {
  /** The value `module.name` stands for; throws for anything not allowed. */
  findGlobal(module: string, name: string): unknown;
  /** Resolves a persistent id (BINPERSID), e.g. a tensor storage record. */
  persistentLoad(pid: unknown): unknown;
}

type Fail = (detail: string) => never;

class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private readonly metastack: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;

  constructor(
    private readonly data: Uint8Array,
    private readonly hooks: PickleHooks,
    private readonly fail: Fail,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  private need(n: number): number {
    if (n > this.data.length - this.pos) this.fail(`pickle is truncated: needs ${n} bytes at offset ${this.pos} of ${this.data.length}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.data[this.need(1)]!;
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private u64(): number {
    const v = this.view.getBigUint64(this.need(8), true);
    if (v > BigInt(this.data.length)) this.fail(`pickle declares a length of ${v} bytes, more than the ${this.data.length} it holds`);
    return Number(v);
  }

  private bytes(n: number): Uint8Array {
    const at = this.need(n);
    return this.data.slice(at, at + n);
  }

  private utf8(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(n));
    } catch {
      this.fail(`pickle holds a string that is not valid UTF-8 before offset ${this.pos}`);
    }
  }

  /** A newline-terminated ASCII line (GLOBAL / INST arguments). */
  private line(): string {
    const end = this.data.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`pickle is truncated: unterminated line at offset ${this.pos}`);
    const text = new TextDecoder('latin1').decode(this.data.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  /** Little-endian two's-complement integer of n bytes (LONG1 / LONG4). */
  private long(n: number): number | bigint {
    const b = this.bytes(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  private pop(): unknown {
    if (this.stack.length === 0) this.fail(`pickle pops an empty stack at offset ${this.pos - 1}`);
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) this.fail(`pickle reads an empty stack at offset ${this.pos - 1}`);
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const items = this.stack;
    const previous = this.metastack.pop();
    if (previous === undefined) this.fail(`pickle has no MARK to pop at offset ${this.pos - 1}`);
    this.stack = previous;
    return items;
  }

  private list(value: unknown, op: string): unknown[] {
    if (!Array.isArray(value)) this.fail(`pickle applies ${op} to a non-list at offset ${this.pos - 1}`);
    return value;
  }

  private dict(value: unknown, op: string): Map<unknown, unknown> {
    if (!(value instanceof Map)) this.fail(`pickle applies ${op} to a non-dict at offset ${this.pos - 1}`);
    return value;
  }

  private setItems(target: unknown, items: unknown[], op: string): void {
    const dict = this.dict(target, op);
    if (items.length % 2 !== 0) this.fail(`pickle ${op} has an odd number of items`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
  }

  private memoGet(index: number): unknown {
    if (!this.memo.has(index)) this.fail(`pickle reads memo slot ${index}, which was never stored`);
    return this.memo.get(index);
  }

  private reduce(fn: unknown, args: unknown): unknown {
    if (!(fn instanceof PickleFunction)) this.fail(`pickle calls a value that is not an allowed function at offset ${this.pos - 1}`);
    if (!Array.isArray(args)) this.fail(`pickle calls ${fn.qualifiedName} without an argument tuple`);
    return fn.apply(args);
  }

  run(): unknown {
    for (;;) {
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail('pickle protocol is newer than 5');
          break;
        case 0x95: // FRAME: a length hint only
          this.need(8);
          break;
        case 0x2e: // STOP
          if (this.stack.length !== 1 || this.metastack.length !== 0) this.fail('pickle ends with a malformed stack');
          return this.stack[0];
        case 0x28: // MARK
          this.metastack.push(this.stack);
          this.stack = [];
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4a: // BININT
          this.stack.push(this.view.getInt32(this.need(4), true));
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.u16());
          break;
        case 0x8a: // LONG1
          this.stack.push(this.long(this.u8()));
          break;
        case 0x8b: { // LONG4
          const n = this.view.getInt32(this.need(4), true);
          if (n < 0) this.fail('pickle has a negative LONG4 length');
          this.stack.push(this.long(n));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          this.stack.push(this.view.getFloat64(this.need(8), false));
          break;
        case 0x58: // BINUNICODE
          this.stack.push(this.utf8(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.utf8(this.u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.utf8(this.u64()));
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str, read as text)
          this.stack.push(this.utf8(this.u8()));
          break;
        case 0x54: { // BINSTRING
          const n = this.view.getInt32(this.need(4), true);
          if (n < 0) this.fail('pickle has a negative BINSTRING length');
          this.stack.push(this.utf8(n));
          break;
        }
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.bytes(this.u8()));
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.bytes(this.u32()));
          break;
        case 0x8e: // BINBYTES8
          this.stack.push(this.bytes(this.u64()));
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push([]);
          break;
        case 0x74: // TUPLE
        case 0x6c: { // LIST
          const items = this.popMark(); // replaces this.stack: read it only afterwards
          this.stack.push(items);
          break;
        }
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: { // TUPLE3
          const n = op - 0x84;
          if (this.stack.length < n) this.fail(`pickle builds a ${n}-tuple from a shorter stack`);
          this.stack.push(this.stack.splice(this.stack.length - n, n));
          break;
        }
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x61: { // APPEND
          const value = this.pop();
          this.list(this.top(), 'APPEND').push(value);
          break;
        }
        case 0x65: { // APPENDS
          const items = this.popMark();
          const list = this.list(this.top(), 'APPENDS');
          for (const item of items) list.push(item);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x64: { // DICT
          const dict = new Map();
          this.setItems(dict, this.popMark(), 'DICT');
          this.stack.push(dict);
          break;
        }
        case 0x73: { // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.dict(this.top(), 'SETITEM').set(key, value);
          break;
        }
        case 0x75: { // SETITEMS
          const items = this.popMark();
          this.setItems(this.top(), items, 'SETITEMS');
          break;
        }
        case 0x63: { // GLOBAL
          const module = this.line();
          this.stack.push(this.hooks.findGlobal(module, this.line()));
          break;
        }
        case 0x93: { // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== 'string' || typeof name !== 'string') this.fail('pickle STACK_GLOBAL needs two strings');
          this.stack.push(this.hooks.findGlobal(module, name));
          break;
        }
        case 0x69: { // INST: resolves a class, which findGlobal refuses unless allowed
          const module = this.line();
          this.hooks.findGlobal(module, this.line());
          this.fail('pickle instantiates a class (INST), which state dicts never do');
        }
        case 0x52: { // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.stack.push(this.reduce(fn, args));
          break;
        }
        case 0x51: // BINPERSID
          this.stack.push(this.hooks.persistentLoad(this.pop()));
          break;
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x68: // BINGET
          this.stack.push(this.memoGet(this.u8()));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memoGet(this.u32()));
          break;
        default:
          this.fail(`pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at offset ${this.pos - 1}, which state dicts never need`);
      }
    }
  }
}

/** Runs the restricted unpickler over `data`; `fail` raises the caller's typed error. */
export function unpickle(data: Uint8Array, hooks: PickleHooks, fail: Fail): unknown {
  return new Unpickler(data, hooks, fail).run();
}
