// Module tree with Hugging Face dotted names (`model.layers.0.self_attn.q_proj.weight`): parameters,
// buffers and children in registration order, state dicts with strict key/shape checks, train/eval
// mode and freezing. PEFT finds and replaces layers through getSubmodule/setSubmodule.
import { PeftjsError } from '../engine/errors.js';
import { DTYPE_BYTES } from '../engine/dtype.js';
import { formatShape, sameShape } from '../engine/shape.js';
import { Tensor } from '../engine/tensor.js';
import { native } from '../native/binding.js';
import { toDtype } from '../engine/ops/cast.js';

export class StateDictError extends PeftjsError {
  override name = 'StateDictError';
}

export interface LoadStateDictOptions {
  /** Missing or unexpected keys raise (default true). Shape mismatches always raise. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function listKeys(keys: string[], limit = 20): string {
  const shown = keys.slice(0, limit).join(', ');
  return keys.length > limit ? `${shown}, … (${keys.length} in all)` : shown;
}

export class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, { tensor: Tensor; persistent: boolean }>();
  private readonly children = new Map<string, Module>();

  /** Class name as shown in messages and as PEFT's auto_mapping records it. */
  get typeName(): string {
    return this.constructor.name;
  }

  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (t !== null && t.dtype === 'float32') t.setRequiresGrad(true);
    this.params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor, persistent = true): Tensor {
    this.buffers.set(name, { tensor: t, persistent });
    return t;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** The child called `name`, if there is one. */
  protected findChild<M extends Module = Module>(name: string): M | undefined {
    return this.children.get(name) as M | undefined;
  }

  protected unregisterModule(name: string): void {
    this.children.delete(name);
  }

  protected unregisterParameter(name: string): void {
    this.params.delete(name);
  }

  protected unregisterBuffer(name: string): void {
    this.buffers.delete(name);
  }

  parameter(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  /** Replaces a parameter tensor (e.g. when tying or loading weights); the old one is not disposed. */
  setParameter(name: string, t: Tensor | null): void {
    if (!this.params.has(name)) throw new StateDictError(`${this.typeName} has no parameter '${name}'`);
    this.registerParameter(name, t);
  }

  buffer(name: string): Tensor | null {
    return this.buffers.get(name)?.tensor ?? null;
  }

  *namedChildren(): Generator<[string, Module]> {
    yield* this.children.entries();
  }

  /** Every module with its dotted name, the root first as ''. */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.children) yield* child.namedModules(join(prefix, name));
  }

  /** Parameters with dotted names; a tensor shared by several modules (tied weights) appears once. */
  namedParameters(options: { removeDuplicate?: boolean } = {}): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of m.params) {
        if (t === null) continue;
        if ((options.removeDuplicate ?? true) && seen.has(t)) continue;
        seen.add(t);
        out.push([join(prefix, name), t]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(options: { persistentOnly?: boolean } = {}): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.buffers) {
        if (options.persistentOnly && !b.persistent) continue;
        out.push([join(prefix, name), b.tensor]);
      }
    }
    return out;
  }

  /** Parameters and persistent buffers by key, tied weights under every name (as torch does). */
  stateDict(): Map<string, Tensor> {
    const sd = new Map<string, Tensor>(this.namedParameters({ removeDuplicate: false }));
    for (const [k, t] of this.namedBuffers({ persistentOnly: true })) sd.set(k, t);
    return sd;
  }

  getSubmodule(name: string): Module {
    if (name === '') return this;
    let m: Module = this;
    for (const part of name.split('.')) {
      const next = m.children.get(part);
      if (next === undefined) throw new StateDictError(`${this.typeName} has no submodule '${name}' ('${part}' not found in ${m.typeName})`);
      m = next;
    }
    return m;
  }

  /** Replaces the module at a dotted name (the parent must exist). */
  setSubmodule(name: string, module: Module): void {
    const cut = name.lastIndexOf('.');
    const parent = cut < 0 ? this : this.getSubmodule(name.slice(0, cut));
    const leaf = name.slice(cut + 1);
    if (!parent.children.has(leaf)) throw new StateDictError(`${this.typeName} has no submodule '${name}' to replace`);
    parent.children.set(leaf, module);
  }

  /**
   * A child by name. Modules look their children up at call time rather than keeping typed fields,
   * so a layer swapped in by setSubmodule (e.g. a LoRA wrapper) is used from then on.
   */
  child<M extends Module = Module>(name: string): M {
    const m = this.children.get(name);
    if (m === undefined) throw new StateDictError(`${this.typeName} has no child '${name}'`);
    return m as M;
  }

  /**
   * Copies values from a state dict into this module's tensors (converting dtype to the
   * destination's). Keys must match exactly; every shape must match.
   */
  loadStateDict(sd: Map<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !sd.has(k));
    const unexpectedKeys = [...sd.keys()].filter((k) => !own.has(k));
    const mismatched: string[] = [];
    for (const [k, src] of sd) {
      const dst = own.get(k);
      if (dst !== undefined && !sameShape(dst.shape, src.shape)) {
        mismatched.push(`${k}: checkpoint ${formatShape(src.shape)} vs model ${formatShape(dst.shape)}`);
      }
    }
    if (mismatched.length > 0) throw new StateDictError(`size mismatch for ${mismatched.length} key(s) in ${this.typeName}: ${listKeys(mismatched, 10)}`);
    if ((options.strict ?? true) && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts = [];
      if (missingKeys.length > 0) parts.push(`missing keys: ${listKeys(missingKeys)}`);
      if (unexpectedKeys.length > 0) parts.push(`unexpected keys: ${listKeys(unexpectedKeys)}`);
      throw new StateDictError(`error loading state dict into ${this.typeName}: ${parts.join('; ')}`);
    }
    for (const [k, src] of sd) {
      const dst = own.get(k);
      if (dst === undefined) continue;
      const value = src.dtype === dst.dtype ? src : toDtype(src, dst.dtype);
      native.copyBytes(value.buffer, 0, dst.buffer, 0, value.storage.bytes);
      if (value !== src) value.dispose();
    }
    return { missingKeys, unexpectedKeys };
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets requiresGrad on every float32 parameter (false freezes the module). */
  requiresGrad(flag: boolean): this {
    for (const t of this.parameters()) if (t.dtype === 'float32') t.requiresGrad = flag;
    return this;
  }

  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((t) => !options.trainableOnly || t.requiresGrad)
      .reduce((n, t) => n + t.size, 0);
  }

  /**
   * A deep copy, as torch's copy.deepcopy: every module and tensor is copied (values, requiresGrad), a
   * tensor or module reached twice (tied weights) is copied once and stays shared in the copy. Other
   * fields are copied shallowly.
   */
  clone(): this {
    return this.cloneWith(new Map());
  }

  private cloneWith(memo: Map<object, object>): this {
    const seen = memo.get(this);
    if (seen !== undefined) return seen as this;
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    memo.set(this, copy);
    const tensor = (t: Tensor): Tensor => {
      let c = memo.get(t) as Tensor | undefined;
      if (c === undefined) {
        c = Tensor.empty(t.shape, t.dtype);
        native.copyBytes(t.buffer, 0, c.buffer, 0, t.size * DTYPE_BYTES[t.dtype]);
        c.requiresGrad = t.requiresGrad;
        memo.set(t, c);
      }
      return c;
    };
    Object.assign(copy, this, {
      params: new Map([...this.params].map(([k, t]) => [k, t === null ? null : tensor(t)])),
      buffers: new Map([...this.buffers].map(([k, b]) => [k, { tensor: tensor(b.tensor), persistent: b.persistent }])),
      children: new Map([...this.children].map(([k, m]) => [k, m.cloneWith(memo)])),
    });
    return copy;
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, t] of this.namedBuffers()) t.dispose();
  }
}

/** Children named "0", "1", … as torch.nn.ModuleList. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly length: number;

  constructor(items: M[]) {
    super();
    this.length = items.length;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }

  at(i: number): M {
    return this.child<M>(String(i));
  }

  *[Symbol.iterator](): Generator<M> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }
}
