// Memory scopes: every tensor created inside `scope(fn)` is disposed when fn returns, except the
// tensors found in its return value (which move to the enclosing scope) and those passed to keep().
// Scopes are synchronous: an async fn would let unrelated tensors into the scope.
import type { Tensor } from './tensor.js';

const stack: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1]!.add(t);
}

/** Removes a tensor from scope tracking so it outlives every enclosing scope. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of stack) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, seen: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || seen.has(value) || depth > 8) return;
  seen.add(value);
  if ((value as { isTensor?: boolean }).isTensor === true) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, seen, depth + 1);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, out, seen, depth + 1);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, seen, depth + 1);
  }
}

export function scope<T>(fn: () => T): T {
  const own = new Set<Tensor>();
  stack.push(own);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    stack.pop();
    for (const t of own) t.dispose();
    throw err;
  }
  stack.pop();
  const returned = new Set<Tensor>();
  collect(result, returned, new Set());
  const parent = stack[stack.length - 1];
  for (const t of own) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}
