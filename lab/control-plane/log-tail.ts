/*
 * The end of a component's log, quoted in errors so a failed start explains itself. Logs are
 * appended to across restarts, so only what the failing run wrote is quoted.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';

/** Only the end of the file is read: a crash-looping component can write a large log. */
const TAIL_BYTES = 16 * 1024;

/** The last `count` lines written at or after byte `from` (where this run of the component began). */
export function lastLines(file: string, count = 20, from = 0): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '(no log written)';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.max(0, Math.min(size - from, TAIL_BYTES));
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    return lines.length === 0 ? '(log is empty)' : lines.slice(-count).join('\n');
  } finally {
    closeSync(fd);
  }
}

/** Where the next run's output will start. */
export function logSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
