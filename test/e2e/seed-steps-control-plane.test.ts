// The seed's five steps with kube-apiserver, controller-manager and scheduler running the lab, and
// agents on KubernetesSource with their own ServiceAccount token (needs `make control-plane`).
import { seedStepsSuite } from './seed-steps-suite.js';

seedStepsSuite({ controlPlane: true });
