//! The one text format in which headers cross between the Worker's Rust and its JS: a line
//! `name: value\n` per header, in one string, so that a list of headers crosses in one call
//! rather than one call (and one string conversion) per header.
//!
//! It carries every list that crosses: the Worker's own answer's headers (`Reply`), a request's
//! headers on their way to the origin, what the rules read of the origin's answer (with its
//! status as the `:status` line, a name no header can have), the name of a visitor page in
//! place of an error's body as the `:page` line (`reply::Page`, written by
//! `src/edge/answer.js`; a maintenance page's message and language as `:message` and `:lang`)
//! and the header edits of a forwarded answer, where an empty value
//! removes the header (`forward::answer_edits`). The
//! JS writer and reader are `line` and `readLines` in `src/edge/lines.js`; both sides test
//! theirs against the same example, `tests/fixtures/lines.txt`.
//!
//! A line ends at its first `\n` and its name at its first `": "`: a header name holds neither
//! (no `:` at all but in the pseudo-lines above), a header value holds no line break (the runtime refuses
//! one), and a value may hold `": "`.

/// Appends the line of one header to `lines`.
pub fn write(lines: &mut String, name: &str, value: &str) {
    lines.reserve(name.len() + value.len() + 3);
    lines.push_str(name);
    lines.push_str(": ");
    lines.push_str(value);
    lines.push('\n');
}

/// The headers of `lines`, in order, as `(name, value)`. A line without `": "` (none is
/// written) is skipped.
pub fn read(lines: &str) -> impl Iterator<Item = (&str, &str)> {
    lines
        .split_terminator('\n')
        .filter_map(|line| line.split_once(": "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example both sides read and write (`tests/lines.test.mjs` for the JS).
    const EXAMPLE: &str = include_str!("../tests/fixtures/lines.txt");

    /// What [`EXAMPLE`] holds.
    const HEADERS: &[(&str, &str)] = &[
        (":status", "200"),
        ("content-type", "text/html; charset=utf-8"),
        ("link", "<https://cdn.example/a.css>; rel=preload, <b: c>"),
        ("etag", ""),
        ("x-unicode", "ünïcödé ✓"),
    ];

    #[test]
    fn the_writer_writes_the_example() {
        let mut lines = String::new();
        for (name, value) in HEADERS {
            write(&mut lines, name, value);
        }
        assert_eq!(lines, EXAMPLE);
    }

    #[test]
    fn the_reader_reads_the_example() {
        assert_eq!(read(EXAMPLE).collect::<Vec<_>>(), HEADERS);
    }

    #[test]
    fn a_value_keeps_the_separators_after_its_name() {
        let mut lines = String::new();
        write(&mut lines, "x", "a: b: c");
        assert_eq!(read(&lines).collect::<Vec<_>>(), [("x", "a: b: c")]);
    }

    #[test]
    fn no_lines_read_as_no_headers() {
        assert_eq!(read("").count(), 0);
        assert_eq!(read("not a header\n").count(), 0);
    }
}
