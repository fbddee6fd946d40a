// Reverse-mode autograd over a dynamic graph. Each op that sees an input requiring grad records a
// GradNode on its output, holding aliases of the tensors its backward needs; backward frees them
// as soon as the node has run. Inputs that do not require grad (frozen weights) get no gradient
// work at all: backward functions receive `needs` and skip those products.
import { native } from '../native/binding.js';
import { DTypeError, EngineError, ShapeError } from './errors.js';
import { keep, scope } from './scope.js';
import { formatShape, sameShape } from './shape.js';
import { Tensor } from './tensor.js';

export type BackwardFn = (grad: Tensor, needs: readonly boolean[], saved: readonly Tensor[]) => (Tensor | null)[];

export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly needs: readonly boolean[];
  saved: Tensor[] | null;
  readonly backward: BackwardFn;
}

let gradDisabledDepth = 0;

export function isGradEnabled(): boolean {
  return gradDisabledDepth === 0;
}

/** Runs fn without recording any graph. */
export function noGrad<T>(fn: () => T): T {
  gradDisabledDepth++;
  try {
    return fn();
  } finally {
    gradDisabledDepth--;
  }
}

/** Runs fn with graph recording on, even inside noGrad (used by recompute). */
export function enableGrad<T>(fn: () => T): T {
  const depth = gradDisabledDepth;
  gradDisabledDepth = 0;
  try {
    return fn();
  } finally {
    gradDisabledDepth = depth;
  }
}

/**
 * Attaches a GradNode to `out` when recording is on and some input requires grad; `saved` are the
 * tensors (inputs or out itself) that `backward` reads. Returns `out`.
 */
export function record(op: string, out: Tensor, inputs: readonly Tensor[], backward: BackwardFn, saved: readonly Tensor[] = []): Tensor {
  if (gradDisabledDepth > 0) return out;
  const needs = inputs.map((t) => t.requiresGrad);
  if (!needs.some(Boolean)) return out;
  out.requiresGrad = true;
  out.gradFn = { op, inputs: [...inputs], needs, saved: saved.map((t) => t.alias()), backward };
  return out;
}

function releaseNode(node: GradNode): void {
  if (node.saved === null) return;
  for (const t of node.saved) t.dispose();
  node.saved = null;
}

function topoOrder(root: GradNode): GradNode[] {
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i]!.gradFn;
      if (child !== null && node.needs[i] && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

/** A handle on g's values that no other tensor shares, so it may be accumulated into in place. */
function exclusive(g: Tensor): Tensor {
  if (!g.storage.shared) return g;
  const copy = keep(Tensor.empty(g.shape));
  native.copyBytes(g.buffer, 0, copy.buffer, 0, g.size * 4);
  g.dispose();
  return copy;
}

/** Returns target + g, reusing target's memory when it is not shared; consumes both. */
function accumulate(target: Tensor, g: Tensor): Tensor {
  const sum = exclusive(target);
  native.axpy(sum.buffer, g.buffer, g.size, 1);
  g.dispose();
  return sum;
}

export function runBackward(root: Tensor, grad: Tensor | undefined, retainGraph: boolean): void {
  root.assertAlive('backward', 'this');
  if (!root.requiresGrad) throw new EngineError('backward', 'this', 'does not require grad and has no graph');
  let seed: Tensor;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new ShapeError('backward', 'grad', `must be given for a non-scalar tensor of shape ${formatShape(root.shape)}`);
    }
    seed = Tensor.empty(root.shape);
    seed.data()[0] = 1;
  } else {
    grad.assertAlive('backward', 'grad');
    if (!sameShape(grad.shape, root.shape)) {
      throw new ShapeError('backward', 'grad', `has shape ${formatShape(grad.shape)}, expected ${formatShape(root.shape)}`);
    }
    if (grad.dtype !== 'float32') throw new DTypeError('backward', 'grad', `must be float32, got ${grad.dtype}`);
    seed = grad.view(grad.shape);
  }
  keep(seed);
  if (root.gradFn === null) {
    leafAccumulate(root, seed);
    return;
  }
  const pending = new Map<GradNode, Tensor>([[root.gradFn, seed]]);
  for (const node of topoOrder(root.gradFn)) {
    const g = pending.get(node);
    pending.delete(node);
    if (g === undefined) continue;
    if (node.saved === null) {
      g.dispose();
      throw new EngineError('backward', undefined, `the graph through '${node.op}' was already freed; pass retainGraph to backward twice`);
    }
    const saved = node.saved;
    const grads = scope(() => node.backward(g, node.needs, saved));
    g.dispose();
    if (!retainGraph) releaseNode(node);
    node.inputs.forEach((input, i) => {
      const gi = grads[i];
      if (gi === null || gi === undefined) return;
      keep(gi);
      if (!node.needs[i]) {
        gi.dispose();
        return;
      }
      if (!sameShape(gi.shape, input.shape)) {
        throw new EngineError(node.op, undefined, `backward produced grad ${formatShape(gi.shape)} for input ${i} of shape ${formatShape(input.shape)}`);
      }
      if (input.gradFn === null) {
        leafAccumulate(input, gi);
        return;
      }
      const prev = pending.get(input.gradFn);
      pending.set(input.gradFn, prev === undefined ? gi : accumulate(prev, gi));
    });
  }
  for (const g of pending.values()) g.dispose();
}

function leafAccumulate(leaf: Tensor, g: Tensor): void {
  leaf.grad = leaf.grad === null ? exclusive(g) : accumulate(leaf.grad, g);
}
