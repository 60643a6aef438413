// W3C Trace Context (Level 1): the trace a request belongs to, from its `traceparent`
// header, so that the broker's log lines for a relying party's server call (a token
// request, userinfo, introspection, the admin API) can be found beside that server's own
// traces. Only the id is read here; when the broker sends traces of its own, its spans take
// the caller's as their parent (ops/tracing.ts).

/** version-traceid-parentid-flags (3.2.2), lowercase hex; a later version may add fields after a dash (3.2.4). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const ZEROS = /^0+$/;

/** The trace id of a `traceparent` header, when it is valid (3.2.2.3: not all zeros; version ff is invalid; version 00 has nothing after the flags). */
export function traceIdOf(header: string): string | undefined {
  const [, version, traceId, parentId, more] = TRACEPARENT.exec(header) ?? [];
  if (!version || !traceId || !parentId || version === 'ff' || (version === '00' && more !== undefined)) return undefined;
  return ZEROS.test(traceId) || ZEROS.test(parentId) ? undefined : traceId;
}
