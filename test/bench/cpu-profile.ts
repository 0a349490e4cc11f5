/*
 * A CPU profile of one stretch of a benchmark, taken through the inspector. `node --cpu-prof`
 * cannot be used for the control-plane benchmark: the profiler's signals interrupt the BPF
 * verifier, which then gives up with EAGAIN and the datapath never loads. Started after the
 * load, the profile covers only the stretch asked for.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface CpuProfile {
  /** Writes the profile (a .cpuprofile that Chrome's DevTools open) and ends the session. */
  stop(): Promise<void>;
}

/** Starts profiling when `file` is set; otherwise returns a profile whose stop() does nothing. */
export async function startCpuProfile(file: string | undefined, intervalUs = 500): Promise<CpuProfile> {
  if (!file) return { stop: () => Promise.resolve() };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
