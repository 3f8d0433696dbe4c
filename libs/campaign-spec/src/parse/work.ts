/**
 * Limits on the work one spec may cause, so that reading and checking a spec takes time linear in
 * its size (and at most about a second for the largest spec accepted), whatever it holds.
 */

/** YAML tokens (keys, values, indicators, comments, line breaks) read, over every parse attempt. */
export const MAX_YAML_TOKENS = 250_000;

/** Values produced from the document: each node, again at every use of an alias or merge key. */
export const MAX_SPEC_VALUES = 150_000;

/**
 * Steps of the checks that compare entries with each other: character comparisons of glob
 * matching and of "did you mean" suggestions, and glob expansion (see COMPILE_STEPS_PER_TOKEN).
 */
export const MAX_CHECK_STEPS = 20_000_000;

/** Problems of one kind listed one by one before the rest are summed up as "and N more". */
export const MAX_LISTED_PER_CHECK = 20;

/** Schema issues turned into messages; the rest are only counted. */
export const MAX_DESCRIBED_ISSUES = 1_000;

/** Errors (and, separately, warnings) listed for one spec; the rest are summed up in one more. */
export const MAX_LISTED_DIAGNOSTICS = 100;

/** What reading and checking one spec did, counted: the budgets above apply to these. */
export interface SpecWork {
  /** YAML tokens lexed, summed over every parse attempt. */
  tokens: number;
  /** Times the text was parsed (more than one when quoted strings were re-indented). */
  parses: number;
  /** Document nodes visited to index anchors and check keys: once per node. */
  indexed: number;
  /** Values produced: nodes walked, each use of an alias and each merged key counting again. */
  values: number;
  /** Steps of the comparing checks (see MAX_CHECK_STEPS). */
  checkSteps: number;
  /** Schema problems zod found, in the child-by-child pre-check and in the whole spec. */
  schemaIssues: number;
  /** Branch components visited to find groups whose branches cannot coexist. */
  branchSteps: number;
}

export function newSpecWork(): SpecWork {
  return {
    tokens: 0,
    parses: 0,
    indexed: 0,
    values: 0,
    checkSteps: 0,
    schemaIssues: 0,
    branchSteps: 0,
  };
}
