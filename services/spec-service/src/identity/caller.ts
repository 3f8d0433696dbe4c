import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Caller } from './identity-store.js';

/** A request as the service carries it out: with the authenticated user as its actor. */
export type Authored<T> = T & { readonly actor: string };

// The caller of each request, keyed by its NatsContext: set by AuthenticationGuard, read by
// @CallerOf(). Gone with the request.
const callers = new WeakMap<object, Caller>();

export function rememberCaller(context: ExecutionContext, caller: Caller): void {
  callers.set(context.switchToRpc().getContext<object>(), caller);
}

/**
 * The authenticated caller, as a handler parameter: `@CallerOf() caller: Caller`. Only under
 * AuthenticationGuard; without it there is no caller, which is a bug, not a refusal.
 */
export const CallerOf = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const caller = callers.get(context.switchToRpc().getContext<object>());
  if (!caller) throw new Error('no authenticated caller: the controller lacks AuthenticationGuard');
  return caller;
});
