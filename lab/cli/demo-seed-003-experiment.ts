/* Seed 003 as one experiment: its DestinationRules (demo-seed-003.ts), then its outage (demo-seed-003-outage.ts). */
import type { DemoExperiment } from './demo-experiment.js';
import { Seed003, SEED_003_LAB, seed003Steps } from './demo-seed-003.js';
import { seed003OutageSteps } from './demo-seed-003-outage.js';

export const SEED_003: DemoExperiment = {
  id: '003',
  title:
    'seed 003, multi-AZ locality: round robin, the failover and distribute DestinationRules (region az01/az02, then sg), ' +
    'then the outage: az01 refuses connections while Ready, outlierDetection moves the client to az02 and back',
  controlPlaneOnly: true,
  steps: (labName, params) => {
    const state = new Seed003(labName ?? SEED_003_LAB);
    return [...seed003Steps(state), ...seed003OutageSteps(state, params.ejectionTime)];
  },
};
