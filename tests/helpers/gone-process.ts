// The id of a process that has already exited, for names that carry a writer's pid.
import { spawnSync } from 'node:child_process';

export function goneProcessId(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}
