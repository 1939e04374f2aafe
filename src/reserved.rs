//! Whether an origin server could read a path as one under `/_tenant`, the Worker's prefix.
//!
//! Servers differ in how they read a path: some percent-decode it twice, or decode IIS's
//! `%uXXXX`; C servers stop at a NUL byte; lenient UTF-8 decoders turn overlong or broken
//! sequences (`%c1%9f`, `%c0%df`) into ASCII; Windows drops trailing dots and spaces; servers
//! that normalise Unicode (NFKC, or Windows' "best fit" to ASCII) read fullwidth forms
//! (`／＿ｔｅｎａｎｔ`), letters with marks and letter-like symbols as plain letters, and drop
//! control, format and combining characters. [`is_reserved`] answers for all of them at once:
//! it reads the path through a small automaton in which each character stands for every
//! character a server could read it as, and says yes when any reading has `_tenant` as its first
//! segment. It errs on the side of yes: a refused path is a 404, a wrongly forwarded one reaches
//! the origin.

use std::borrow::Cow;

/// How many rounds of percent-decoding [`is_reserved`] undoes: some servers decode twice.
const DECODE_ROUNDS: usize = 3;

/// The reserved first segment.
const NAME: &[u8; 7] = b"_tenant";

/// Whether an origin server could read `path` as a path under `/_tenant`: whether, percent-decoded
/// up to [`DECODE_ROUNDS`] times (`%XX` and `%uXXXX`), read leniently (see the module doc), with
/// `\` read as `/`, empty and `.` segments dropped and `..` applied, a `;` parameter, a query or
/// trailing dots and spaces cut, its first segment can be `_tenant` in any case.
pub fn is_reserved(path: &str) -> bool {
    let bytes = decode(path);
    let mut reading = Reading::default();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match fold(c) {
                Folded::Dropped => {}
                Folded::One(c) => reading.read(Symbol::Char(c)),
                Folded::Dots(n) => (0..n).for_each(|_| reading.read(Symbol::Char('.'))),
                Folded::Nul => reading.read(Symbol::End),
                Folded::Anything => reading.read(Symbol::Any),
            }
            if reading.decided() {
                return true;
            }
        }
        for _ in chunk.invalid() {
            reading.read(Symbol::Byte);
        }
    }
    reading.reserved()
}

/// `path` with its percent-escapes decoded, as bytes (they need not be UTF-8), up to
/// [`DECODE_ROUNDS`] times.
fn decode(path: &str) -> Cow<'_, [u8]> {
    let mut bytes = Cow::Borrowed(path.as_bytes());
    for _ in 0..DECODE_ROUNDS {
        if !bytes.contains(&b'%') {
            break;
        }
        let next = percent_decode(&bytes);
        if next == *bytes {
            break;
        }
        bytes = Cow::Owned(next);
    }
    bytes
}

/// One round of decoding `%XX` (a byte) and `%uXXXX` (a UTF-16 unit, as IIS reads it).
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: Option<&u8>| b.and_then(|&b| (b as char).to_digit(16));
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' {
            if let (Some(hi), Some(lo)) = (hex(input.get(i + 1)), hex(input.get(i + 2))) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            if matches!(input.get(i + 1), Some(b'u' | b'U')) {
                let unit = (2..6).try_fold(0u32, |acc, k| Some(acc * 16 + hex(input.get(i + k))?));
                if let Some(c) = unit.and_then(char::from_u32) {
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    i += 6;
                    continue;
                }
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

/// What a lenient server may read one character as.
enum Folded {
    /// Nothing: control, format and combining characters, whitespace.
    Dropped,
    /// This character (ASCII lowercased; fullwidth forms folded; `\` read as `/`).
    One(char),
    /// Dots: the one-dot, two-dot and three-dot leaders are `.`, `..` and `...` under NFKC.
    Dots(usize),
    /// NUL: where a C server stops reading.
    Nul,
    /// Some ASCII character: letters with marks, letter-like, enclosed, mathematical and
    /// small or compatibility forms, which Unicode normalisation or "best fit" make ASCII.
    Anything,
}

/// How a lenient server may read `c`.
fn fold(c: char) -> Folded {
    let c = match c {
        // Fullwidth ASCII, exactly as NFKC folds it.
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        c => c,
    };
    match c {
        '\0' => Folded::Nul,
        '\\' => Folded::One('/'),
        c if c.is_ascii() && !c.is_ascii_control() && c != ' ' => {
            Folded::One(c.to_ascii_lowercase())
        }
        c if c.is_control() || c.is_whitespace() => Folded::Dropped,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}' => Folded::Dropped,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}' => Folded::Dropped,
        '\u{2024}' => Folded::Dots(1),
        '\u{2025}' => Folded::Dots(2),
        '\u{2026}' => Folded::Dots(3),
        '\u{00A0}'..='\u{02FF}'
        | '\u{1D00}'..='\u{1EFF}'
        | '\u{2044}'
        | '\u{2070}'..='\u{218F}'
        | '\u{2215}'
        | '\u{2216}'
        | '\u{2460}'..='\u{24FF}'
        | '\u{29F8}'
        | '\u{29F9}'
        | '\u{2C60}'..='\u{2C7F}'
        | '\u{3002}'
        | '\u{A720}'..='\u{A7FF}'
        | '\u{AB30}'..='\u{AB6F}'
        | '\u{FB00}'..='\u{FB4F}'
        | '\u{FE30}'..='\u{FE6F}'
        | '\u{FF00}'
        | '\u{FF5F}'..='\u{FF64}'
        | '\u{1D400}'..='\u{1D7FF}'
        | '\u{1F100}'..='\u{1F1FF}' => Folded::Anything,
        c => Folded::One(c),
    }
}

/// One symbol of a path as [`Reading`] takes it.
#[derive(Clone, Copy)]
enum Symbol {
    /// A character read as itself.
    Char(char),
    /// Any one character.
    Any,
    /// A byte of no UTF-8 character: read as nothing, as any one character, or as the end.
    Byte,
    /// Nothing, or the end (NUL).
    End,
}

/// The states of the automaton, as bits of a set: the path so far can be read so that...
mod state {
    /// ...it is only `/` and `.` (the reserved segment may come next).
    pub const START: u16 = 1 << 0;
    /// ...it is anything.
    pub const ANYTHING: u16 = 1 << 1;
    /// ...it is anything, then `/`.
    pub const SLASH: u16 = 1 << 2;
    /// ...it is anything, then `/.` (one more `.` is a `..` segment: back to the start).
    pub const SLASH_DOT: u16 = 1 << 3;
    /// ...its first segment so far is the first `n` bytes of `_tenant`: `1 << (4 + n)`.
    pub const NAME_0: u16 = 1 << 4;
    /// ...its first segment is `_tenant` (and maybe trailing dots and spaces).
    pub const NAME_FULL: u16 = 1 << 11;
    /// ...its first segment is `_tenant`, and something ended it.
    pub const AFTER: u16 = 1 << 12;
    /// The states in which a reading of the whole path is reserved.
    pub const ACCEPTING: u16 = NAME_FULL | AFTER;
}

/// The set of states the path read so far can be in, and whether some reading already ended
/// reserved (at a NUL or a broken byte).
#[derive(Clone, Copy)]
struct Reading {
    states: u16,
    ended_reserved: bool,
}

impl Default for Reading {
    fn default() -> Reading {
        Reading {
            states: closure(state::START),
            ended_reserved: false,
        }
    }
}

/// `states` with what they reach without reading: the start can begin the reserved segment.
fn closure(states: u16) -> u16 {
    if states & state::START != 0 {
        states | state::NAME_0
    } else {
        states
    }
}

/// The states `states` reach by reading `c`.
fn step(states: u16, c: char) -> u16 {
    use state::*;
    let mut next = 0;
    if states & (START | ANYTHING | SLASH | SLASH_DOT) != 0 {
        next |= ANYTHING;
    }
    if states & START != 0 && matches!(c, '/' | '.') {
        next |= START;
    }
    if states & (ANYTHING | SLASH | SLASH_DOT) != 0 && c == '/' {
        next |= SLASH;
    }
    if states & SLASH != 0 && c == '.' {
        next |= SLASH_DOT;
    }
    if states & SLASH_DOT != 0 && c == '.' {
        next |= START;
    }
    for (n, &expected) in NAME.iter().enumerate() {
        if states & (NAME_0 << n) != 0 && c == char::from(expected) {
            next |= NAME_0 << (n + 1);
        }
    }
    if states & NAME_FULL != 0 {
        match c {
            '.' | ' ' => next |= NAME_FULL,
            '/' | ';' | '?' | '#' => next |= AFTER,
            _ => {}
        }
    }
    if states & AFTER != 0 {
        next |= AFTER;
    }
    closure(next)
}

/// Characters that stand for every transition of [`step`]: reading "any character" is reading
/// each of them.
const EVERY_KIND: [char; 10] = ['/', '.', ';', ' ', '_', 't', 'e', 'n', 'a', 'x'];

impl Reading {
    fn read(&mut self, symbol: Symbol) {
        let any = |states| EVERY_KIND.iter().fold(0, |acc, &c| acc | step(states, c));
        self.states = match symbol {
            Symbol::Char(c) => step(self.states, c),
            Symbol::Any => any(self.states),
            Symbol::Byte => {
                self.ended_reserved |= self.states & state::ACCEPTING != 0;
                self.states | any(self.states)
            }
            Symbol::End => {
                self.ended_reserved |= self.states & state::ACCEPTING != 0;
                self.states
            }
        };
    }

    /// Whether the path is reserved whatever follows.
    fn decided(&self) -> bool {
        self.ended_reserved || self.states & state::AFTER != 0
    }

    /// Whether the path read so far, ending here, is reserved.
    fn reserved(&self) -> bool {
        self.ended_reserved || self.states & state::ACCEPTING != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that each path is reserved, or that none is.
    fn assert_reserved(reserved: bool, paths: &[&str]) {
        for path in paths {
            assert_eq!(is_reserved(path), reserved, "{path}");
        }
    }

    #[test]
    fn the_plain_prefix_and_its_known_spellings_are_reserved() {
        assert_reserved(
            true,
            &[
                "/_tenant",
                "/_tenant/",
                "/_TENANT/health",
                "/%5Ftenant/",
                "/%255Ftenant/",
                "//_tenant/",
                "/./_tenant/",
                "/x/../_tenant/",
                "/x/%252e%252e/_tenant/",
                "/\\_tenant/",
                "/_tenant;x=1/",
                "/_tenant./",
                "/_tenant%20/",
                "/%2F_tenant/",
            ],
        );
    }

    #[test]
    fn control_characters_a_server_drops_or_stops_at_are_seen_through() {
        assert_reserved(
            true,
            &[
                "/_tenant%00/health",
                "/_tenant%00.html",
                "/%00/_tenant/",
                "/_tenant%09/",
                "/%09_tenant/",
                "/_ten%0aant/",
                "/_tenant%0d%0a/",
                "/_tenant%7f/",
                "/_tenant%c2%85/",
                "/_tenant%e2%80%8b/",
                "/_te%cc%81nant/",
                "/_tenant%3Fx",
            ],
        );
    }

    #[test]
    fn iis_unicode_escapes_and_overlong_utf8_are_seen_through() {
        assert_reserved(
            true,
            &[
                "/%u005ftenant/",
                "/%U005F%u0074enant/",
                "/%25u005ftenant/",
                "/%c1%9ftenant/",
                "/%c0%dftenant/",
                "/%e0%81%9ftenant/",
                "/%f0%80%81%9ftenant/",
                "/_tenant%c0%af/",
                "/x/%c0%ae%c0%ae/_tenant/",
                "/_tenant%c0%80.html",
            ],
        );
    }

    #[test]
    fn fullwidth_and_lookalike_forms_are_seen_through() {
        assert_reserved(
            true,
            &[
                "/\u{FF0F}\u{FF3F}\u{FF54}\u{FF45}\u{FF4E}\u{FF41}\u{FF4E}\u{FF54}",
                "/%ef%bc%bftenant/",
                "/%EF%BC%BF%EF%BD%94%EF%BD%85%EF%BD%8E%EF%BD%81%EF%BD%8E%EF%BD%94/health",
                "/\u{FF3F}TENANT\u{FF0F}health",
                "/\u{FE4D}tenant/",
                "/_t\u{00E9}nant/",
                "/_\u{24E3}enant/",
                "/_\u{1D42D}enant/",
                "/_tenan\u{1D57}/",
                "/x/\u{2025}/_tenant/",
                "/x\u{2215}..\u{2215}_tenant",
                "/_tenant\u{FF0E}/",
            ],
        );
    }

    #[test]
    fn other_paths_are_not_reserved() {
        assert_reserved(
            false,
            &[
                "/",
                "/dashboard",
                "/_tenantx",
                "/_tenant.json",
                "/_tenants/",
                "/a/_tenant/health",
                "/%5Ftenantx/",
                "/tenant/health",
                "/.well-known/security.txt",
                "/caf%C3%A9/menu",
                "/caf%e9",
                "/%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E3%83%9A%E3%83%BC%E3%82%B8/",
                "/\u{FF48}\u{FF45}\u{FF4C}\u{FF4C}\u{FF4F}\u{FF57}\u{FF4F}/",
                "/search%3Fq=_tenant",
                "/%u00",
                "/%uD800tenant",
            ],
        );
    }
}
