import { seedStepsSuite } from './seed-steps-suite.js';

seedStepsSuite({ controlPlane: false });
