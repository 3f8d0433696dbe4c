export * from './spec/campaign-spec.schema.js';
export { campaignSpecJsonSchema, JSON_SCHEMA_PATH } from './spec/json-schema.js';
export {
  parseCampaignSpec,
  specSizeError,
  MAX_SPEC_BYTES,
  type CampaignSpecParseResult,
} from './parse/parse-campaign-spec.js';
export {
  MAX_CHECK_STEPS,
  MAX_LISTED_DIAGNOSTICS,
  MAX_SPEC_VALUES,
  MAX_YAML_TOKENS,
} from './parse/work.js';
export { formatDiagnostic, type SourcePosition, type SpecDiagnostic } from './parse/diagnostics.js';
export { parseSearchQuery, type ParseQueryOptions } from './query/parse-query.js';
export * from './query/query-ast.js';
export { findLanguage, pathIsInLanguage, type Language } from './query/languages.js';
export { translateRe2, type Re2Translation } from './query/re2.js';
export { parseCommitDate, COMMIT_DATE_FORMS } from './query/commit-date.js';
export { matchesGlob, globProblem, GlobError } from './glob/glob.js';
export { invalidBranchNameReason } from './text/git-ref.js';
export * from './render/changeset-spec.js';
export {
  renderChangesetSpecs,
  publication,
  workspaceTemplateData,
} from './render/render-changeset-specs.js';
export * from './template/index.js';
export { parseRate, rateSpacingMs, RATE_HINT, RATE_PATTERN, type Rate } from './spec/rate.js';
