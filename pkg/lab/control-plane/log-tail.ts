/* The end of a component's log, quoted in errors so a failed start explains itself. */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Only the end of the file is read: a crash-looping component can write a large log. */
const TAIL_BYTES = 16 * 1024;

export function lastLines(file: string, count = 20): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '(no log written)';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((line) => line.trim() !== '');
    return lines.length === 0 ? '(log is empty)' : lines.slice(-count).join('\n');
  } finally {
    closeSync(fd);
  }
}
