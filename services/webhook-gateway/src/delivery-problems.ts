import type { WebhookDelivery, WebhookFacts } from '@campaigns/codehost';

/** Longest X-GitHub-Delivery kept (GitHub sends a 36-character GUID; the key's index allows ~2.7 KB). */
export const MAX_DELIVERY_ID_LENGTH = 200;
/** Pull request numbers are PostgreSQL integers here, as in the reconciler's tables. */
export const MAX_PULL_REQUEST_NUMBER = 2 ** 31 - 1;

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
const EVENT_NAME = /^[a-z_]{1,100}$/;
// PostgreSQL stores neither a NUL character nor half of a UTF-16 surrogate pair in text or jsonb.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string): boolean => text.includes('\u0000') || LONE_SURROGATE.test(text);

/**
 * Why a signed delivery's headers can never be recorded, or undefined when they can: a delivery
 * id or event name no code host sends. Delivering it again cannot help, so it is answered 400.
 */
export function deliveryHeaderProblem(
  id: string | undefined,
  event: string | undefined,
): string | undefined {
  if (id === undefined || event === undefined)
    return 'the webhook lacks X-GitHub-Delivery or X-GitHub-Event';
  if (id.length > MAX_DELIVERY_ID_LENGTH)
    return `X-GitHub-Delivery is longer than ${MAX_DELIVERY_ID_LENGTH} characters`;
  if (!PRINTABLE_ASCII.test(id))
    return 'X-GitHub-Delivery holds characters other than printable ASCII';
  if (!EVENT_NAME.test(event)) return 'X-GitHub-Event is not an event name';
  return undefined;
}

/**
 * Why what a verified delivery says can never be recorded, or undefined when it can: a pull
 * request number beyond an integer, or a field holding text PostgreSQL cannot store (NUL, a lone
 * surrogate). Answered 422: delivering it again cannot help.
 */
export function factsProblem(delivery: WebhookDelivery, facts: WebhookFacts): string | undefined {
  const numbers = 'numbers' in facts.target ? facts.target.numbers : [];
  const tooLarge = numbers.find((n) => n > MAX_PULL_REQUEST_NUMBER);
  if (tooLarge !== undefined)
    return `pull request number ${tooLarge} is larger than ${MAX_PULL_REQUEST_NUMBER}`;
  const texts: [string, unknown][] = [
    ['action', delivery.action],
    ['repository', facts.repository],
    ['sender', facts.sender],
    ['head commit', 'headSha' in facts.target ? facts.target.headSha : undefined],
    ...Object.entries(facts.fields),
  ];
  for (const [name, value] of texts) {
    if (typeof value === 'string' && unstorable(value))
      return `the ${name} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored`;
  }
  return undefined;
}
