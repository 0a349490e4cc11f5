/*
 * The agent's map sizes for a layout past its defaults (pkg/datapath DEFAULT_MAP_SIZES: 150,000
 * backends): 30,000 Services of 10 endpoints need 300,000. Passed as the agent's own flags'
 * environment, so a run at the defaults' scale loads the agent exactly as deployed.
 */
import { DEFAULT_MAP_SIZES } from '../../../pkg/datapath/index.js';
import type { Layout } from './manifests.js';

export function mapSizesEnv(layout: Layout): Record<string, string> {
  // Every endpoint is a backend of its own; headroom for the probe Service and churn.
  const backends = Math.ceil(layout.services * layout.perService * 1.1);
  if (backends <= DEFAULT_MAP_SIZES.backends) return {};
  return { NEARBY_MAX_BACKENDS: String(backends), NEARBY_MAX_SLOTS: String(2 * backends) };
}
