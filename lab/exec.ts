/* Runs a tool with an explicit argv (never a shell string), optional stdin, and a time limit. */
import { execFile } from 'node:child_process';
import { LabError } from './errors.js';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

export function run(file: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, [...args], { timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const detail = stderr.trim() || err.message;
        reject(new LabError('system', `${file} ${args.join(' ')} failed: ${detail}`, { cause: err }));
        return;
      }
      resolve({ stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}
