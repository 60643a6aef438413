// W3C Trace Context: which traceparent headers name a trace the log lines can carry.

import test from 'ava';
import { traceIdOf } from '../../src/http/trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

test('a valid traceparent gives its trace id; a later version\'s extra fields are passed over (3.2.4)', (t) => {
  t.is(traceIdOf(`00-${TRACE}-00f067aa0ba902b7-01`), TRACE);
  t.is(traceIdOf(`00-${TRACE}-00f067aa0ba902b7-00`), TRACE, 'not sampled: still the trace');
  t.is(traceIdOf(`01-${TRACE}-00f067aa0ba902b7-01-what-comes-next`), TRACE);
});

test('invalid ones give none: all-zero ids, version ff, uppercase, extra fields in version 00, two headers joined, garbage', (t) => {
  for (const header of [
    `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-${TRACE}-${'0'.repeat(16)}-01`, `ff-${TRACE}-00f067aa0ba902b7-01`,
    `00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`, `00-${TRACE}-00f067aa0ba902b7-01-more`, `00-${TRACE}-00f067aa0ba902b7-01, 00-${TRACE}-00f067aa0ba902b7-01`,
    '', 'garbage', `00-${TRACE}-00f067aa0ba902b7`, `00-${TRACE.slice(1)}-00f067aa0ba902b7-01`,
  ]) t.is(traceIdOf(header), undefined, header);
});
