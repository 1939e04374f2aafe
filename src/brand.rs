//! The brand contract: `tenant_profiles.brand_config` as the Worker reads it.
//!
//! [`Brand::parse`] accepts exactly the documents `schema/brand-config.schema.json` and the
//! database's `public.is_valid_brand_config` accept (the shared corpus in
//! `schema/corpus/brand-config.json` is run through all three by the test command). Every value
//! it returns is safe by construction for where `crate::render` writes it: colours are hex,
//! font families come from a CSS-safe character set, the logo URL is made of RFC 3986
//! characters other than quotes and parentheses. Texts are free text (a coach may write `<` or
//! `&`): they are escaped where they are written, never forbidden.

use serde_json::{Map, Value};

/// Longest logo URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest font family list.
pub const MAX_FONT_CHARS: usize = 200;
/// Longest logo alt text and tagline.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;
/// Longest welcome and completion message.
pub const MAX_MESSAGE_CHARS: usize = 2000;

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
#[derive(Debug, Clone, PartialEq)]
pub struct Brand {
    pub logo_url: String,
    pub logo_alt: String,
    pub logo_width: Option<f64>,
    pub colors: Colors,
    pub font_heading: String,
    pub font_body: String,
    pub tagline: Option<String>,
    pub welcome_message: Option<String>,
    pub completion_message: Option<String>,
    pub show_powered_by: bool,
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

impl Brand {
    /// Parses and checks a brand configuration (JSON text).
    #[cfg(test)]
    pub fn parse(json: &str) -> Result<Brand, Invalid> {
        let value: Value = serde_json::from_str(json).map_err(|_| invalid("", "a JSON object"))?;
        Brand::from_value(&value)
    }

    /// Checks a brand configuration already parsed.
    pub fn from_value(value: &Value) -> Result<Brand, Invalid> {
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
        let logo_width = match logo.get("width") {
            None => None,
            Some(w) => Some(
                w.as_f64()
                    .filter(|w| *w > 0.0)
                    .ok_or(invalid(".logo.width", "a positive number"))?,
            ),
        };
        Ok(Brand {
            logo_url: logo_url.to_string(),
            logo_alt: text(
                Some(field(logo, ".logo", "alt")?),
                ".logo.alt",
                MAX_SHORT_TEXT_CHARS,
            )?
            .unwrap_or_default(),
            logo_width,
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
        })
    }

    /// The font families of a list, trimmed, in order.
    pub fn families(list: &str) -> impl Iterator<Item = &str> {
        list.split(',').map(|f| f.trim_matches(' '))
    }
}

fn invalid(at: &str, expected: &'static str) -> Invalid {
    Invalid {
        at: at.to_string(),
        expected,
    }
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

/// `https://host[/?#…]` of [`url_char`]s, at most [`MAX_URL_CHARS`].
pub fn is_logo_url(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    s.len() <= MAX_URL_CHARS && host_len > 0 && rest.bytes().all(url_char)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The corpus shared with the JSON Schema and the database CHECK.
    const CORPUS: &str = include_str!("../schema/corpus/brand-config.json");

    #[test]
    fn the_worker_agrees_with_the_shared_corpus() {
        let corpus: Vec<Value> = serde_json::from_str(CORPUS).unwrap();
        assert!(corpus.len() >= 50, "dozens of documents");
        let mut disagreements = Vec::new();
        for case in &corpus {
            let valid = case["valid"].as_bool().unwrap();
            let result = Brand::from_value(&case["document"]);
            if result.is_ok() != valid {
                disagreements.push(format!("{}: {:?}", case["name"], result.err()));
            }
        }
        assert_eq!(disagreements, Vec::<String>::new());
    }

    #[test]
    fn problems_say_where_and_what_was_expected() {
        let corpus: Vec<Value> = serde_json::from_str(CORPUS).unwrap();
        let mut brand = corpus[0]["document"].clone();
        assert!(Brand::from_value(&brand).is_ok());
        brand["logo"]["url"] = "http://cdn.example.com/logo.svg".into();
        let e = Brand::from_value(&brand).unwrap_err();
        assert_eq!(e.at, ".logo.url");
        assert!(e.to_string().contains("https://"), "{e}");
        brand["logo"]["url"] = "https://cdn.example.com/logo.svg".into();
        brand["colors"]["text"] = "red".into();
        assert_eq!(Brand::from_value(&brand).unwrap_err().at, ".colors.text");
        assert_eq!(Brand::parse("[]").unwrap_err().at, "");
    }

    #[test]
    fn families_are_trimmed() {
        assert_eq!(
            Brand::families(" Inter , Helvetica Neue ,serif").collect::<Vec<_>>(),
            ["Inter", "Helvetica Neue", "serif"]
        );
    }
}
