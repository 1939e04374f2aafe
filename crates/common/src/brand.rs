//! The brand contract: `tenant_profiles.brand_config` as the resolver reads it and the control
//! plane checks an owner's edit against it ([`problems`]), before the database is touched.
//!
//! [`Brand::parse`] accepts exactly the documents `schema/brand-config.schema.json` and the
//! database's `public.is_valid_brand_config` accept (the shared corpus in
//! `schema/corpus/brand-config.json` is run through all three by the test command). Every value
//! it returns is safe by construction for where the resolver's `render` writes it: colours are hex,
//! font families come from a CSS-safe character set, the logo and favicon URLs are made of RFC
//! 3986 characters other than quotes and parentheses, the locale of letters, digits and hyphens. Texts are free text (a coach may write `<` or
//! `&`): they are escaped where they are written, never forbidden.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Longest logo or favicon URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest locale: the length RFC 5646 (section 4.4.1) asks every implementation to keep.
pub const MAX_LOCALE_CHARS: usize = 35;
/// Longest font family list.
pub const MAX_FONT_CHARS: usize = 200;
/// Longest logo alt text and tagline.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;
/// Longest welcome and completion message.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// The range of a logo width: 1 to 10000 CSS pixels as a JSON parser reads the number, the
/// nearest double (what the JSON Schema's `minimum` and `maximum` compare). As exact decimals:
/// from halfway between 1 and the double below it (1 − 2⁻⁵⁴, which rounds to 1) to halfway
/// between 10000 and the double above it (10000 + 2⁻⁴⁰, which rounds to 10000, ties to even).
/// The database CHECK compares the stored decimal with the same two numbers, and so does
/// [`Brand::parse`] with the number's text: serde_json's own float parsing may be a unit in the
/// last place off for long decimals, and the correctly rounding one costs 9 KiB of Wasm.
pub const LOGO_WIDTH: [&str; 2] = [
    "0.999999999999999944488848768742172978818416595458984375",
    "10000.0000000000009094947017729282379150390625",
];

/// The eight brand colours, as stored (`#rgb` or `#rrggbb`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Colors {
    pub primary: String,
    pub primary_hover: String,
    pub secondary: String,
    pub background: String,
    pub background_subtle: String,
    pub text: String,
    pub text_muted: String,
    pub border: String,
}

/// A valid brand configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    pub logo_url: String,
    pub logo_alt: String,
    pub colors: Colors,
    pub font_heading: String,
    pub font_body: String,
    pub tagline: Option<String>,
    pub welcome_message: Option<String>,
    pub completion_message: Option<String>,
    pub show_powered_by: bool,
    /// The tenant's favicon: an URL under the same rules as the logo's.
    pub favicon: Option<String>,
    /// The site's language, a BCP 47 language tag as written (`en`, `fr-CA`).
    pub locale: Option<String>,
}

/// Why a brand configuration is not valid: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub at: String,
    pub expected: &'static str,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "brand_config{}: expected {}", self.at, self.expected)
    }
}

const COLOR: &str = "#rgb or #rrggbb";
const FONTS: &str = "a comma-separated list of font names of letters, digits, spaces and hyphens, at most 200 characters";
const URL: &str = "an https:// URL of RFC 3986 characters other than quotes and parentheses, at most 2048 characters";
const WIDTH: &str = "a number from 1 to 10000";
const LOCALE: &str = "a BCP 47 language tag: 2 or 3 letters, then hyphen-separated subtags of 1 to 8 letters or digits, at most 35 characters";
/// What a document no JSON parser here can read (a number beyond a double, say) is not.
const DOCUMENT: &str = "a JSON object whose numbers are in a double's range";

/// The keys each closed object may have: the contract allows extra keys at the top level only
/// (kept for the frontend to grow), never where values are written into CSS.
const LOGO_KEYS: &[&str] = &["url", "alt", "width"];
const COLOR_KEYS: &[&str] = &[
    "primary",
    "primaryHover",
    "secondary",
    "background",
    "backgroundSubtle",
    "text",
    "textMuted",
    "border",
];
const FONT_KEYS: &[&str] = &["heading", "body"];
/// The top-level keys the contract names: the only ones the Worker reads.
const ROOT_KEYS: &[&str] = &[
    "logo",
    "colors",
    "fonts",
    "tagline",
    "welcomeMessage",
    "completionMessage",
    "showPoweredBy",
    "favicon",
    "locale",
];

/// An object's members, each kept as JSON text: only what the contract names is ever parsed,
/// so a number no parser here can read (`1e400`) in a key the frontend added loses nothing.
/// Of two members with the same key the later counts, as in `JSON.parse` and jsonb.
pub struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'a> Members<'a> {
    /// The members of a JSON object's text; `None` if it is no object.
    pub fn parse(json: &'a str) -> Option<Members<'a>> {
        serde_json::from_str(json).ok()
    }

    /// The members' keys, in order (a repeated key as often as it appears).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The text of the member named `key`.
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

impl Brand {
    /// Parses and checks a brand configuration (JSON text). Only the keys the contract names
    /// are parsed, and the logo width is compared as written ([`LOGO_WIDTH`]).
    pub fn parse(json: &str) -> Result<Brand, Invalid> {
        let members = Members::parse(json).ok_or(invalid("", "a JSON object"))?;
        let logo = members
            .get("logo")
            .and_then(|logo| Members::parse(logo.get()));
        if logo
            .and_then(|logo| logo.get("width"))
            .is_some_and(|w| !in_range(w.get(), LOGO_WIDTH))
        {
            return Err(invalid(".logo.width", WIDTH));
        }
        let mut root = Map::new();
        for key in ROOT_KEYS {
            let Some(raw) = members.get(key) else {
                continue;
            };
            let value = serde_json::from_str(raw.get()).map_err(|_| Invalid {
                at: format!(".{key}"),
                expected: DOCUMENT,
            })?;
            root.insert(key.to_string(), value);
        }
        Brand::from_value(&Value::Object(root))
    }

    /// Checks a brand configuration parsed but for its logo width.
    fn from_value(value: &Value) -> Result<Brand, Invalid> {
        let root = object(value, "", "a JSON object", None)?;
        let logo = object(
            field(root, "", "logo")?,
            ".logo",
            "an object",
            Some(LOGO_KEYS),
        )?;
        let colors = object(
            field(root, "", "colors")?,
            ".colors",
            "an object",
            Some(COLOR_KEYS),
        )?;
        let fonts = object(
            field(root, "", "fonts")?,
            ".fonts",
            "an object",
            Some(FONT_KEYS),
        )?;
        let color = |key: &'static str| -> Result<String, Invalid> {
            let at = format!(".colors.{key}");
            let v = string(field(colors, ".colors", key)?, &at, COLOR)?;
            is_color(v)
                .then(|| v.to_string())
                .ok_or(invalid(&at, COLOR))
        };
        let font = |key: &'static str| -> Result<String, Invalid> {
            let at = format!(".fonts.{key}");
            let v = string(field(fonts, ".fonts", key)?, &at, FONTS)?;
            is_font_list(v)
                .then(|| v.to_string())
                .ok_or(invalid(&at, FONTS))
        };
        let logo_url = string(field(logo, ".logo", "url")?, ".logo.url", URL)?;
        if !is_logo_url(logo_url) {
            return Err(invalid(".logo.url", URL));
        }
        Ok(Brand {
            logo_url: logo_url.to_string(),
            logo_alt: text(
                Some(field(logo, ".logo", "alt")?),
                ".logo.alt",
                MAX_SHORT_TEXT_CHARS,
            )?
            .unwrap_or_default(),
            colors: Colors {
                primary: color("primary")?,
                primary_hover: color("primaryHover")?,
                secondary: color("secondary")?,
                background: color("background")?,
                background_subtle: color("backgroundSubtle")?,
                text: color("text")?,
                text_muted: color("textMuted")?,
                border: color("border")?,
            },
            font_heading: font("heading")?,
            font_body: font("body")?,
            tagline: text(root.get("tagline"), ".tagline", MAX_SHORT_TEXT_CHARS)?,
            welcome_message: text(
                root.get("welcomeMessage"),
                ".welcomeMessage",
                MAX_MESSAGE_CHARS,
            )?,
            completion_message: text(
                root.get("completionMessage"),
                ".completionMessage",
                MAX_MESSAGE_CHARS,
            )?,
            show_powered_by: field(root, "", "showPoweredBy")?
                .as_bool()
                .ok_or(invalid(".showPoweredBy", "true or false"))?,
            favicon: checked(root.get("favicon"), ".favicon", URL, is_logo_url)?,
            locale: checked(root.get("locale"), ".locale", LOCALE, is_locale)?,
        })
    }

    /// The tenant's icon: its favicon, else its logo.
    pub fn icon_url(&self) -> &str {
        self.favicon.as_deref().unwrap_or(&self.logo_url)
    }

    /// The font families of a list, trimmed, in order.
    pub fn families(list: &str) -> impl Iterator<Item = &str> {
        list.split(',').map(|f| f.trim_matches(' '))
    }
}

/// Every way `json` breaks the contract, each where and what was expected there (empty: it is
/// valid, exactly when [`Brand::parse`] accepts it). An owner's edit is answered with all of
/// them at once, so a form can mark every wrong field, not only the first.
pub fn problems(json: &str) -> Vec<Invalid> {
    let Some(members) = Members::parse(json) else {
        return vec![invalid("", "a JSON object")];
    };
    let mut found = Vec::new();
    // The logo width is compared as written, before any parse that could not read it.
    let width = members
        .get("logo")
        .and_then(|logo| Members::parse(logo.get()))
        .and_then(|logo| logo.get("width"));
    let wide = width.is_some_and(|w| !in_range(w.get(), LOGO_WIDTH));
    if wide {
        found.push(invalid(".logo.width", WIDTH));
    }
    let mut root = Map::new();
    let mut unreadable = Vec::new();
    for key in ROOT_KEYS {
        if let Some(raw) = members.get(key) {
            match serde_json::from_str(raw.get()) {
                Ok(value) => drop(root.insert(key.to_string(), value)),
                Err(_) => {
                    unreadable.push(*key);
                    if !(wide && *key == "logo") {
                        found.push(invalid(&format!(".{key}"), DOCUMENT));
                    }
                }
            }
        }
    }
    let mut check = |result: Result<(), Invalid>| {
        if let Err(e) = result {
            found.push(e);
        }
    };
    let section = |key: &str, keys| -> Result<Option<&Map<String, Value>>, Invalid> {
        if unreadable.contains(&key) {
            return Ok(None);
        }
        object(
            field(&root, "", key)?,
            &format!(".{key}"),
            "an object",
            Some(keys),
        )
        .map(Some)
    };
    match section("logo", LOGO_KEYS) {
        Ok(Some(logo)) => {
            check(field(logo, ".logo", "url").and_then(|url| {
                string(url, ".logo.url", URL)
                    .ok()
                    .filter(|u| is_logo_url(u))
                    .map(drop)
                    .ok_or(invalid(".logo.url", URL))
            }));
            check(
                field(logo, ".logo", "alt")
                    .and_then(|alt| text(Some(alt), ".logo.alt", MAX_SHORT_TEXT_CHARS).map(drop)),
            );
        }
        Ok(None) => {}
        Err(e) => check(Err(e)),
    }
    match section("colors", COLOR_KEYS) {
        Ok(None) => {}
        Ok(Some(colors)) => {
            for key in COLOR_KEYS {
                let at = format!(".colors.{key}");
                check(field(colors, ".colors", key).and_then(|v| {
                    v.as_str()
                        .filter(|c| is_color(c))
                        .map(drop)
                        .ok_or(invalid(&at, COLOR))
                }));
            }
        }
        Err(e) => check(Err(e)),
    }
    match section("fonts", FONT_KEYS) {
        Ok(None) => {}
        Ok(Some(fonts)) => {
            for key in FONT_KEYS {
                let at = format!(".fonts.{key}");
                check(field(fonts, ".fonts", key).and_then(|v| {
                    v.as_str()
                        .filter(|f| is_font_list(f))
                        .map(drop)
                        .ok_or(invalid(&at, FONTS))
                }));
            }
        }
        Err(e) => check(Err(e)),
    }
    check(text(root.get("tagline"), ".tagline", MAX_SHORT_TEXT_CHARS).map(drop));
    for key in ["welcomeMessage", "completionMessage"] {
        check(text(root.get(key), &format!(".{key}"), MAX_MESSAGE_CHARS).map(drop));
    }
    if !unreadable.contains(&"showPoweredBy") {
        check(field(&root, "", "showPoweredBy").and_then(|v| {
            v.as_bool()
                .map(drop)
                .ok_or(invalid(".showPoweredBy", "true or false"))
        }));
    }
    check(checked(root.get("favicon"), ".favicon", URL, is_logo_url).map(drop));
    check(checked(root.get("locale"), ".locale", LOCALE, is_locale).map(drop));
    found
}

impl Invalid {
    /// Where, as a JSON Pointer (RFC 6901: `/colors/primary`; `""` for the whole document).
    pub fn pointer(&self) -> String {
        self.at.replace('.', "/")
    }
}

fn invalid(at: &str, expected: &'static str) -> Invalid {
    Invalid {
        at: at.to_string(),
        expected,
    }
}

/// Whether a JSON value's text is a number within `[low, high]` (two positive decimals),
/// compared exactly, digit by digit.
fn in_range(text: &str, [low, high]: [&str; 2]) -> bool {
    matches!(
        (decimal(text), decimal(low), decimal(high)),
        (Some(n), Some(low), Some(high)) if low <= n && n <= high
    )
}

/// A positive JSON number as `0.d₁d₂… × 10^exponent`: the exponent and the significant digits
/// (the first not 0, no trailing zeros), which order decimals as a tuple does. `None` for
/// zero, a negative number, an exponent beyond an i64 and anything that is not a number.
fn decimal(text: &str) -> Option<(i64, Vec<u8>)> {
    let mut bytes = text.bytes();
    let mut digits = Vec::new();
    let mut point = None;
    for b in bytes.by_ref() {
        match b {
            b'0'..=b'9' => digits.push(b),
            b'.' if point.is_none() => point = Some(digits.len()),
            b'e' | b'E' => break,
            _ => return None,
        }
    }
    let before_point = point.unwrap_or(digits.len()) as i64;
    let mut exponent: i64 = 0;
    let mut sign = 1;
    for b in bytes {
        match b {
            b'-' => sign = -1,
            b'+' => {}
            b'0'..=b'9' => exponent = exponent.checked_mul(10)?.checked_add(i64::from(b - b'0'))?,
            _ => return None,
        }
    }
    let zeros = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..zeros);
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (!digits.is_empty()).then_some(())?;
    Some((
        (before_point - zeros as i64).checked_add(sign * exponent)?,
        digits,
    ))
}

/// `value` as an object; with `keys`, an object with no other keys.
fn object<'a>(
    value: &'a Value,
    at: &str,
    expected: &'static str,
    keys: Option<&[&str]>,
) -> Result<&'a Map<String, Value>, Invalid> {
    let map = value.as_object().ok_or(invalid(at, expected))?;
    match keys {
        Some(keys) if map.keys().any(|k| !keys.contains(&k.as_str())) => {
            Err(invalid(at, "no keys but those of the contract"))
        }
        _ => Ok(map),
    }
}

/// A required member.
fn field<'a>(map: &'a Map<String, Value>, at: &str, key: &str) -> Result<&'a Value, Invalid> {
    map.get(key).ok_or_else(|| Invalid {
        at: format!("{at}.{key}"),
        expected: "a value (it is required)",
    })
}

fn string<'a>(value: &'a Value, at: &str, expected: &'static str) -> Result<&'a str, Invalid> {
    value.as_str().ok_or(invalid(at, expected))
}

/// An optional free text of at most `max` characters (Unicode code points).
fn text(value: Option<&Value>, at: &str, max: usize) -> Result<Option<String>, Invalid> {
    let expected = if max == MAX_MESSAGE_CHARS {
        "a text of at most 2000 characters"
    } else {
        "a text of at most 200 characters"
    };
    match value {
        None => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) if s.chars().count() <= max => Ok(Some(s.to_string())),
            _ => Err(invalid(at, expected)),
        },
    }
}

/// An optional string that must pass `valid`.
fn checked(
    value: Option<&Value>,
    at: &str,
    expected: &'static str,
    valid: fn(&str) -> bool,
) -> Result<Option<String>, Invalid> {
    match value {
        None => Ok(None),
        Some(v) => match v.as_str() {
            Some(s) if valid(s) => Ok(Some(s.to_string())),
            _ => Err(invalid(at, expected)),
        },
    }
}

/// `#rgb` or `#rrggbb`.
pub fn is_color(s: &str) -> bool {
    s.strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A comma-separated list of font family names of letters, digits, spaces and hyphens, each
/// with something other than spaces, at most [`MAX_FONT_CHARS`] characters.
pub fn is_font_list(s: &str) -> bool {
    s.len() <= MAX_FONT_CHARS
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" ,-".contains(&b))
        && Brand::families(s).all(|f| !f.is_empty())
}

/// Characters a logo URL may have: RFC 3986's, less the quotes and parentheses that could end
/// a CSS `url("…")` or an HTML attribute. The host part may not have `/`, `?` or `#`.
fn url_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._~:/?#@!$&*+,;=%-".contains(&b)
}

/// `https://host[/?#…]` of `url_char`s, at most [`MAX_URL_CHARS`]: a logo or favicon URL.
pub fn is_logo_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    s.len() <= MAX_URL_CHARS && host_len > 0 && rest.bytes().all(url_char)
}

/// A BCP 47 language tag as the contract reads it: 2 or 3 ASCII letters (the language), then
/// any number of `-` and 1 to 8 ASCII letters or digits (script, region, variants, extensions),
/// at most [`MAX_LOCALE_CHARS`] (`en`, `fr-CA`, `zh-Hant-TW`; not `en_US`, `en-`, `i-klingon`).
/// The database's and the JSON Schema's `^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`, written out.
pub fn is_locale(s: &str) -> bool {
    let mut subtags = s.split('-');
    let language = subtags.next().unwrap_or_default();
    s.len() <= MAX_LOCALE_CHARS
        && matches!(language.len(), 2 | 3)
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags
            .all(|t| (1..=8).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The corpus shared with the JSON Schema and the database CHECK.
    const CORPUS: &str = include_str!("../../../schema/corpus/brand-config.json");

    /// A corpus document as text: some (`1e400`) are no `Value` at all.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        valid: bool,
        document: Box<serde_json::value::RawValue>,
    }

    fn corpus() -> Vec<Case> {
        serde_json::from_str(CORPUS).unwrap()
    }

    #[test]
    fn problems_name_every_wrong_field_and_none_of_a_valid_brand() {
        for case in corpus() {
            let found = problems(case.document.get());
            assert_eq!(found.is_empty(), case.valid, "{}: {found:?}", case.name);
            if let Err(first) = Brand::parse(case.document.get()) {
                assert!(
                    found.iter().any(|p| p.at == first.at),
                    "{}: parse names {}, problems {found:?}",
                    case.name,
                    first.at
                );
            }
        }
        let two = r##"{"logo":{"url":"http://x","alt":"A"},"colors":{"primary":"red","primaryHover":"#000","secondary":"#000","background":"#fff","backgroundSubtle":"#fff","text":"#000","textMuted":"#000","border":"#000"},"fonts":{"heading":"Inter","body":"Inter"},"showPoweredBy":"yes"}"##;
        let pointers: Vec<String> = problems(two).iter().map(Invalid::pointer).collect();
        assert_eq!(pointers, ["/logo/url", "/colors/primary", "/showPoweredBy"]);
        assert_eq!(problems("[]")[0].pointer(), "");
    }

    #[test]
    fn the_worker_agrees_with_the_shared_corpus() {
        let corpus = corpus();
        assert!(corpus.len() >= 50, "dozens of documents");
        let mut disagreements = Vec::new();
        for case in &corpus {
            let result = Brand::parse(case.document.get());
            if result.is_ok() != case.valid {
                disagreements.push(format!("{}: {:?}", case.name, result.err()));
            }
        }
        assert_eq!(disagreements, Vec::<String>::new());
    }

    #[test]
    fn a_width_beyond_a_double_is_out_of_the_widths_range() {
        let brand = |width: &str| {
            let seed = corpus().swap_remove(0).document;
            Brand::parse(
                &seed
                    .get()
                    .replace("\"width\": 180", &format!("\"width\": {width}")),
            )
        };
        assert!(brand("180").is_ok());
        for width in ["1e400", "1e-400", "1e308"] {
            let e = brand(width).unwrap_err();
            assert_eq!(
                (e.at.as_str(), e.expected),
                (".logo.width", WIDTH),
                "{width}"
            );
        }
    }

    #[test]
    fn widths_are_compared_exactly_with_the_halfway_points() {
        let [low, high] = LOGO_WIDTH;
        assert_eq!(low.parse::<f64>(), Ok(1.0), "halfway below 1 rounds to 1");
        assert!(low.replace("375", "374").parse::<f64>().unwrap() < 1.0);
        assert_eq!(
            high.parse::<f64>(),
            Ok(10000.0),
            "halfway above 10000 rounds to 10000"
        );
        assert!(high.replace("625", "626").parse::<f64>().unwrap() > 10000.0);
        for inside in [
            "1", "1.0", "180", "180.5", "1E4", "10000", "1e0", "100e-2", "0.1e1", low, high,
        ] {
            assert!(in_range(inside, LOGO_WIDTH), "{inside}");
        }
        for outside in [
            "0",
            "-0",
            "0.5",
            "-180",
            "10000.5",
            "1e5",
            "1e400",
            "1e-400",
            "1e99999999999999999999",
            "0.999999999999999944488848768742172978818416595458984374",
            "10000.0000000000009094947017729282379150390626",
            "\"180\"",
            "true",
            "null",
            "[180]",
        ] {
            assert!(!in_range(outside, LOGO_WIDTH), "{outside}");
        }
    }

    #[test]
    fn of_two_logos_the_later_counts_as_in_json_parse_and_jsonb() {
        let seed = corpus().swap_remove(0).document;
        let logo = r#""logo": {"url": "https://a.example/l.svg", "alt": "L", "width": 180},"#;
        let bad_then_good =
            seed.get()
                .replacen('{', &format!("{{{}", logo.replace("180", "1e400")), 1);
        assert!(Brand::parse(&bad_then_good).is_ok(), "{bad_then_good}");
    }

    #[test]
    fn a_number_no_parser_here_reads_is_harmless_in_a_key_the_contract_does_not_name() {
        let corpus = corpus();
        let seed = corpus[0].document.get();
        let extra = seed.replacen('{', r#"{"frontendScale": 1e400, "#, 1);
        assert!(Brand::parse(&extra).is_ok(), "{extra}");
    }

    #[test]
    fn problems_say_where_and_what_was_expected() {
        let corpus = corpus();
        let mut brand: Value = serde_json::from_str(corpus[0].document.get()).unwrap();
        assert!(Brand::parse(&brand.to_string()).is_ok());
        brand["logo"]["url"] = "http://cdn.example.com/logo.svg".into();
        let e = Brand::parse(&brand.to_string()).unwrap_err();
        assert_eq!(e.at, ".logo.url");
        assert!(e.to_string().contains("https://"), "{e}");
        brand["logo"]["url"] = "https://cdn.example.com/logo.svg".into();
        brand["colors"]["text"] = "red".into();
        assert_eq!(
            Brand::parse(&brand.to_string()).unwrap_err().at,
            ".colors.text"
        );
        assert_eq!(Brand::parse("[]").unwrap_err().at, "");
    }

    #[test]
    fn the_icon_is_the_favicon_else_the_logo() {
        let seed: Value = serde_json::from_str(corpus()[0].document.get()).unwrap();
        let logo = Brand::parse(&seed.to_string()).unwrap();
        assert_eq!(logo.favicon, None);
        assert_eq!(logo.icon_url(), logo.logo_url);
        let mut with_favicon = seed.clone();
        with_favicon["favicon"] = "https://cdn.example.com/icon.png".into();
        with_favicon["locale"] = "fr-CA".into();
        let brand = Brand::parse(&with_favicon.to_string()).unwrap();
        assert_eq!(brand.icon_url(), "https://cdn.example.com/icon.png");
        assert_eq!(brand.locale.as_deref(), Some("fr-CA"));
    }

    #[test]
    fn problems_name_the_favicon_and_the_locale() {
        let mut brand: Value = serde_json::from_str(corpus()[0].document.get()).unwrap();
        brand["favicon"] = "javascript:alert(1)".into();
        brand["locale"] = "en_US".into();
        let pointers: Vec<String> = problems(&brand.to_string())
            .iter()
            .map(Invalid::pointer)
            .collect();
        assert_eq!(pointers, ["/favicon", "/locale"]);
        assert_eq!(Brand::parse(&brand.to_string()).unwrap_err().at, ".favicon");
        let huge = brand.to_string().replacen('{', r#"{"locale": 1e400, "#, 1);
        assert!(problems(&huge).iter().any(|p| p.pointer() == "/locale"));
    }

    #[test]
    fn locales_are_a_language_then_subtags() {
        for tag in [
            "en",
            "EN",
            "fil",
            "fr-CA",
            "zh-Hant-TW",
            "de-CH-1901",
            "es-419",
            "en-US-u-ca-gregory",
            "en-US-abcdefgh-abcdefgh-abcdefgh-ab",
        ] {
            assert!(is_locale(tag), "{tag}");
        }
        for tag in [
            "",
            "e",
            "engl",
            "en_US",
            "en-",
            "-en",
            "en--US",
            "en-abcdefghi",
            "i-klingon",
            "e1",
            "en US",
            "en-US\n",
            "fr-ÇA",
            "en-US-abcdefgh-abcdefgh-abcdefgh-abc",
        ] {
            assert!(!is_locale(tag), "{tag}");
        }
        assert_eq!(
            "en-US-abcdefgh-abcdefgh-abcdefgh-ab".len(),
            MAX_LOCALE_CHARS
        );
    }

    #[test]
    fn families_are_trimmed() {
        assert_eq!(
            Brand::families(" Inter , Helvetica Neue ,serif").collect::<Vec<_>>(),
            ["Inter", "Helvetica Neue", "serif"]
        );
    }
}
