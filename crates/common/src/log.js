// How both Workers log (log.rs: `tenant_common::emit`; each Worker's event writer makes the
// line). Each event is logged as an object: Workers Logs indexes the fields of a logged object,
// and keeps a logged string as one message. Under `wrangler dev`, workerd would print an object
// across lines in its own notation, so the object prints as the line of JSON it came from
// (`util.inspect.custom`: a symbol key, never one of the fields Workers Logs or a Tail Worker
// sees). Always `console.log`, whatever the event's level: wrangler prints `console.warn` and
// `console.error` to stderr behind a coloured banner, which `wrangler dev | jq` cannot read.

const inspect = Symbol.for('nodejs.util.inspect.custom');

/**
 * Logs the event `line` (one JSON object) as an object that prints as `line`, and returns that
 * object (the resolver makes its analytics data point from it: src/edge/analytics.js).
 */
export function emit(line) {
  const event = JSON.parse(line);
  Object.defineProperty(event, inspect, { value: () => line });
  console.log(event);
  return event;
}
