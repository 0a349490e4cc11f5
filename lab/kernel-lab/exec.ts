/** Runs a tool with an explicit argv (never a shell string) and a time limit. */
import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const detail = stderr.trim() || err.message;
        reject(new Error(`${file} ${args.join(' ')} failed: ${detail}`));
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}
