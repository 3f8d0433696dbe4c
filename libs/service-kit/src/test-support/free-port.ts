// One helper for every package's tests: it lives with the private servers that use it too.
export { freePort } from '@campaigns/events/testing';
