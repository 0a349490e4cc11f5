/**
 * pkg/planner: all of nearby's locality semantics, as pure functions from a model snapshot and
 * a node name to the datapath state that node should hold. No I/O happens here.
 */
export { nodeWarnings, plan, planOne, type ServicePlan } from './plan.js';
export type { ServiceOutcome } from './plan-service.js';
export { explainEndpoint, type EndpointExplanation, type Placement } from './explain.js';
export { explainRule } from './explain-rule.js';
export { entriesText, interceptedText, notProgrammedText, servicesText } from './plan-words.js';
export {
  DEFAULT_PLAN_OPTIONS,
  MAX_TIERS,
  type Mode,
  type Plan,
  type PlannedEndpoint,
  type PlannedEntry,
  type PlannedService,
  type PlannedSpillover,
  type PlannedTier,
  type PlanOptions,
  SPILLOVER_SCOPES,
  type SpilloverScope,
  type Scope,
  type ServiceSelection,
  SERVICE_SELECTIONS,
  type SkippedService,
  type Warning,
  type WarningCode,
  WARNING_CODES,
} from './types.js';
export {
  choosePolicy,
  PREFER_CLOSE_SCOPES,
  PREFER_SAME_NODE_SCOPES,
  PREFER_SAME_ZONE_SCOPES,
  STRICT_SCOPES,
  TRAFFIC_DISTRIBUTION_ANNOTATION,
  type Policy,
} from './policy.js';
export { failoverTierCount, rankEndpoint, tierOf, type Ranking, type ScopeStep } from './rank.js';
export {
  clientLocality,
  endpointLocality,
  nodeLocality,
  ISTIO_SUBZONE_LABEL,
  KUBERNETES_SUBZONE_LABEL,
  NETWORK_LABEL,
  REGION_LABEL,
  ZONE_LABEL,
  type Locality,
  type LocalitySource,
  type ResolvedLocality,
} from './locality.js';
export { isReady, isServing, isServingTerminating, isTerminating, selectEligible } from './eligibility.js';
export { MAGLEV_DEFAULT_TABLE_SIZE, MAGLEV_MAX_TABLE_SIZE, maglevTableSize } from './maglev-size.js';
export { OUTLIER_ANNOTATION, outlierFor } from './rule-outlier.js';
export { SPILLOVER_ANNOTATION, spilloverPercent } from './rule-spillover.js';
