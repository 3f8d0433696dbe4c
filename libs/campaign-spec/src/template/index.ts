export { TemplateError, type TemplateErrorCode, type TemplatePosition } from './errors.js';
export {
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_MAX_STEPS,
  evaluateCondition,
  renderTemplate,
  type TemplateOptions,
  type TemplateValue,
} from './evaluator.js';
export { TEMPLATE_FUNCTIONS, TEMPLATE_HELPERS } from './functions.js';
export { TEMPLATE_NAMESPACES } from './namespaces.js';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_SOURCE_BYTES,
  isTemplated,
  parseTemplate,
  type ParsedTemplate,
  type ParseOptions,
} from './parser.js';
export { templateReferences, type TemplateReference } from './references.js';
