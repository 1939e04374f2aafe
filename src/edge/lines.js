// The one text format in which headers cross between the Worker's Rust and this JS: a line
// "name: value\n" per header, in one string, so that a list of headers crosses in one call
// rather than one call (and one string conversion) per header. src/lines.rs says what crosses
// in it and holds the Rust writer and reader; both sides test theirs against the same example,
// tests/fixtures/lines.txt (tests/lines.test.mjs here).
//
// A line ends at its first "\n" and its name at its first ": ": a header name holds neither (no
// ":" at all but in ":status" and ":page"), a header value holds no line break (the runtime refuses one),
// and a value may hold ": ".

/** The line of one header. */
export function line(name, value) {
  return `${name}: ${value}\n`;
}

/** Calls `each(name, value)` for each header of `lines`, in order; a line without ": " is skipped. */
export function readLines(lines, each) {
  for (let start = 0; start < lines.length; ) {
    let end = lines.indexOf('\n', start);
    if (end < 0) end = lines.length;
    const colon = lines.indexOf(': ', start);
    if (colon >= 0 && colon < end) each(lines.slice(start, colon), lines.slice(colon + 2, end));
    start = end + 1;
  }
}

/** New headers holding those of `lines`. */
export function headersOf(lines) {
  const headers = new Headers();
  readLines(lines, (name, value) => headers.append(name, value));
  return headers;
}
