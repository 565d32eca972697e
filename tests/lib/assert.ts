// Assertions from Node's standard library, which Deno ships: no registry
// beyond npm is reachable from CI, so no jsr:@std/assert.
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, message?: string): asserts cond {
  nodeAssert.ok(cond, message);
}

export function assertEquals<T>(actual: T, expected: T, message?: string) {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

export function assertMatch(actual: string, expected: RegExp, message?: string) {
  nodeAssert.match(actual, expected, message);
}
