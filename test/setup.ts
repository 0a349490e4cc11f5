// Every test run freezes model objects, so code that changes one (which would corrupt the
// conversions the agent caches between passes) fails loudly here rather than quietly in a node.
import { freezeModelObjects } from '../pkg/model/index.js';

freezeModelObjects(true);
