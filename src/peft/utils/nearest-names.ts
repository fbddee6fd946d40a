// "Did you mean" suggestions for target names that match no module: edit distance on the last segment.

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/**
 * Distinct last segments of `names` closest to the last segment of `wanted` (at most `limit`, only those
 * within a third of its length, at least 2 edits), nearest first.
 */
export function nearestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const target = lastSegment(wanted);
  const maxDistance = Math.max(2, Math.floor(target.length / 3));
  const scored = [...new Set([...names].map(lastSegment))]
    .filter((s) => s !== '')
    .map((s) => ({ s, d: editDistance(target, s) }))
    .filter(({ d }) => d <= maxDistance)
    .sort((x, y) => x.d - y.d || (x.s < y.s ? -1 : 1));
  return scored.slice(0, limit).map(({ s }) => s);
}
