// Typed access to a kernel registered by an op family's .cc file, failing at load time (not on
// first use) when the addon was built from older sources.
import { native } from '../../native/binding.js';

export function nativeKernel<T>(name: string): T {
  const fn = (native as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`peftjs: the native addon lacks kernel '${name}'; rebuild it with \`npm run build:native\``);
  return fn as T;
}
