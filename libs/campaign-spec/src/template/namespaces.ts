/**
 * The variable namespaces a campaign spec template may name without a leading dot, as in
 * `${{ repository.name }}`. In Sourcegraph they are functions returning maps; here they are
 * the top-level keys of the data given to `renderTemplate`.
 */
export const TEMPLATE_NAMESPACES: readonly string[] = Object.freeze([
  'batch_change',
  'batch_change_link',
  'campaign',
  'outputs',
  'previous_step',
  'repository',
  'step',
  'steps',
]);

/** `campaign` is our name for what Sourcegraph calls `batch_change`; either resolves to the other when only one is given. */
export const NAMESPACE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['campaign', 'batch_change'],
  ['batch_change', 'campaign'],
]);

const namespaceSet: ReadonlySet<string> = new Set(TEMPLATE_NAMESPACES);

export function isTemplateNamespace(name: string): boolean {
  return namespaceSet.has(name);
}

/**
 * Names that are never looked up, whatever the data: they are how JavaScript reaches prototypes,
 * and no campaign spec has a reason to use them.
 */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);
