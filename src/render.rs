//! A tenant's branding written out: `brand.css`, the web app manifest, and the block injected
//! at the start of `<head>` in the app's HTML. Each is computed once per tenant
//! ([`Rendered::of`]), when it is first asked for, and then served as is.
//!
//! Values come from a checked [`Brand`], so colours and font names cannot leave their CSS
//! value; everything is escaped where it is written all the same: CSS strings escape quotes,
//! backslashes and angle brackets (so nothing can close the `<style>` element), and the tenant
//! JSON in `<script type="application/json">` escapes `<`, `>`, `&` and every character beyond
//! ASCII, the icon's URL in its attribute `&`, `"`, `<` and `>`, so no value can close the script element or be read as markup, and the block is the
//! same bytes in every charset a page may be in (`edge/inject.js` writes it as bytes).

use std::rc::Rc;

use crate::brand::{Brand, Members};
use crate::reply::etag;

/// CSS generic font families: written bare (quoted, they would name a font called "serif").
const GENERIC_FAMILIES: &[&str] = &[
    "serif",
    "sans-serif",
    "monospace",
    "cursive",
    "fantasy",
    "system-ui",
    "ui-serif",
    "ui-sans-serif",
    "ui-monospace",
    "ui-rounded",
    "math",
    "emoji",
    "fangsong",
];

/// Longest `short_name` in the manifest, as the web app manifest spec suggests.
const SHORT_NAME_CHARS: usize = 12;

/// A tenant's branding, ready to serve: bodies and their ETags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `brand.css`: one `:root { … }` rule.
    pub css: Rc<str>,
    pub css_etag: Rc<str>,
    /// `manifest.webmanifest`.
    pub manifest: Rc<str>,
    pub manifest_etag: Rc<str>,
    /// What is inserted at the start of `<head>`.
    pub head: Rc<str>,
    /// Where `/favicon.ico` redirects: the brand's favicon, else its logo (`None` without a
    /// valid brand: the origin's then).
    pub icon: Option<Rc<str>>,
    /// The brand's `locale`: `<html lang>` of its pages (a BCP 47 tag, which no attribute
    /// escaping can change).
    pub lang: Option<Rc<str>>,
}

impl Rendered {
    /// Renders a tenant from its public JSON (`displayName` and `brand` read from it). Each
    /// is read on its own, the brand as text: a brand that breaks the contract, even one no
    /// parser here can read (a number beyond a double: `1e400`), loses its own values, never
    /// the tenant's name.
    pub fn for_tenant(tenant_json: &str) -> Rendered {
        let tenant = Members::parse(tenant_json);
        let member = |key| tenant.as_ref().and_then(|t| t.get(key));
        let brand = member("brand").and_then(|b| Brand::parse(b.get()).ok());
        let name: Option<serde_json::Value> =
            member("displayName").and_then(|n| serde_json::from_str(n.get()).ok());
        let name = name.as_ref().and_then(|n| n.as_str()).unwrap_or_default();
        Rendered::of(tenant_json, name, brand.as_ref())
    }

    /// Renders a tenant: its public JSON, slug and display name, and its brand (`None` when the
    /// stored brand does not pass the contract: then no brand value is written anywhere).
    pub fn of(tenant_json: &str, display_name: &str, brand: Option<&Brand>) -> Rendered {
        let declarations = brand.map(declarations).unwrap_or_default();
        let css = format!(":root {{\n{declarations}}}\n");
        let manifest = manifest(display_name, brand);
        let theme = brand
            .map(|b| {
                format!(
                    r#"<meta name="theme-color" content="{}"><link rel="icon" href="{}">"#,
                    b.colors.primary,
                    attribute(b.icon_url())
                )
            })
            .unwrap_or_default();
        let head = format!(
            r#"<style id="tenant-brand">:root {{ {} }}</style>{theme}<link rel="manifest" href="/_tenant/manifest.webmanifest"><script type="application/json" id="tenant-data">{}</script>"#,
            declarations.replace("\n  ", " ").trim(),
            script_json(tenant_json)
        );
        Rendered {
            css_etag: etag(&css).into(),
            manifest_etag: etag(&manifest).into(),
            css: css.into(),
            manifest: manifest.into(),
            head: head.into(),
            icon: brand.map(|b| b.icon_url().into()),
            lang: brand.and_then(|b| b.locale.as_deref()).map(Rc::from),
        }
    }
}

/// The custom properties, one per line (`  --brand-primary: #123;`).
fn declarations(brand: &Brand) -> String {
    let c = &brand.colors;
    let props = [
        ("primary", c.primary.clone()),
        ("primary-hover", c.primary_hover.clone()),
        ("secondary", c.secondary.clone()),
        ("background", c.background.clone()),
        ("background-subtle", c.background_subtle.clone()),
        ("text", c.text.clone()),
        ("text-muted", c.text_muted.clone()),
        ("border", c.border.clone()),
        ("font-heading", font_families(&brand.font_heading)),
        ("font-body", font_families(&brand.font_body)),
        ("logo-url", format!("url({})", css_string(&brand.logo_url))),
    ];
    props
        .iter()
        .map(|(name, value)| format!("  --brand-{name}: {value};\n"))
        .collect()
}

/// A font family list as a CSS value: names quoted, generic families bare.
fn font_families(list: &str) -> String {
    Brand::families(list)
        .map(|family| {
            if GENERIC_FAMILIES.contains(&family.to_ascii_lowercase().as_str()) {
                family.to_ascii_lowercase()
            } else {
                css_string(family)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A CSS string: double-quoted, with `"`, `\`, `<`, `>` and line breaks escaped, so it can
/// neither end early nor close a `<style>` element.
fn css_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' | '<' | '>' | '\n' | '\r' | '\u{c}' => {
                out.push_str(&format!("\\{:x} ", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A double-quoted HTML attribute's value: `&`, `"`, `<` and `>` as character references (one
/// loop: a `str::replace` for each cost the Wasm more).
pub(crate) fn attribute(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// JSON made safe inside `<script type="application/json">`: `<`, `>` and `&` (which can only
/// occur inside JSON strings) and every character beyond ASCII (U+2028 and U+2029 among them)
/// become `\u` escapes, so the JSON means the same, nothing in it can close the element, and
/// it is pure ASCII: the same bytes in a UTF-8 page and in a windows-1252 or Shift_JIS one.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if matches!(c, '<' | '>' | '&') || !c.is_ascii() {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(HEX[usize::from(*unit >> shift & 0xf)] as char);
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The web app manifest: name, short name, standalone from `/`, the brand's colours, icon (its
/// favicon, else its logo) and language.
fn manifest(display_name: &str, brand: Option<&Brand>) -> String {
    let mut manifest = serde_json::json!({
        "name": display_name,
        "short_name": short_name(display_name),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
    });
    if let Some(brand) = brand {
        manifest["theme_color"] = brand.colors.primary.clone().into();
        manifest["background_color"] = brand.colors.background.clone().into();
        let mut icon =
            serde_json::json!({ "src": brand.icon_url(), "sizes": "any", "purpose": "any" });
        if let Some(kind) = image_type(brand.icon_url()) {
            icon["type"] = kind.into();
        }
        manifest["icons"] = serde_json::json!([icon]);
        if let Some(locale) = &brand.locale {
            manifest["lang"] = locale.clone().into();
        }
    }
    manifest.to_string()
}

/// The display name if short enough, else its first word, else its first characters.
fn short_name(display_name: &str) -> String {
    let fits = |s: &str| s.chars().count() <= SHORT_NAME_CHARS;
    if fits(display_name) {
        return display_name.to_string();
    }
    match display_name.split_whitespace().next() {
        Some(word) if fits(word) => word.to_string(),
        _ => display_name.chars().take(SHORT_NAME_CHARS).collect(),
    }
}

/// The image type an icon URL's extension names, when it names one.
fn image_type(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next()?.to_ascii_lowercase();
    let ext = path.rsplit_once('.')?.1.to_string();
    Some(match ext.as_str() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "avif" => "image/avif",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRAND: &str = r##"{"logo":{"url":"https://cdn.example.com/logo.svg?v=1","alt":"Acme"},
      "colors":{"primary":"#2d5a3d","primaryHover":"#234730","secondary":"#c9a227","background":"#fff",
        "backgroundSubtle":"#f6f4ec","text":"#1f2a24","textMuted":"#5e6b63","border":"#e2ddcc"},
      "fonts":{"heading":"Playfair Display, Georgia, SERIF","body":"Lato"},"showPoweredBy":false}"##;

    fn rendered(tenant_json: &str) -> Rendered {
        Rendered::of(
            tenant_json,
            "Leading with Meaning",
            Some(&Brand::parse(BRAND).unwrap()),
        )
    }

    #[test]
    fn brand_css_is_one_root_rule_with_every_property() {
        let r = rendered("{}");
        assert!(r.css.starts_with(":root {\n") && r.css.ends_with("}\n"));
        for name in [
            "primary",
            "primary-hover",
            "secondary",
            "background",
            "background-subtle",
            "text",
            "text-muted",
            "border",
            "font-heading",
            "font-body",
            "logo-url",
        ] {
            assert!(r.css.contains(&format!("--brand-{name}: ")), "{name}");
        }
        assert!(r.css.contains("--brand-primary: #2d5a3d;"));
        assert!(r
            .css
            .contains(r#"--brand-font-heading: "Playfair Display", "Georgia", serif;"#));
        assert!(r
            .css
            .contains(r#"--brand-logo-url: url("https://cdn.example.com/logo.svg?v=1");"#));
    }

    #[test]
    fn the_head_block_cannot_be_closed_by_any_value() {
        let json = r#"{"tagline":"</script><script>alert(1)</script></style>","x":"a & b > c  "}"#;
        let r = rendered(json);
        let script = r.head.split(r#"id="tenant-data">"#).nth(1).unwrap();
        let inside = script.strip_suffix("</script>").unwrap();
        assert!(!inside.contains('<') && !inside.contains('>') && !inside.contains('&'));
        let back: serde_json::Value = serde_json::from_str(inside).unwrap();
        let original: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(back, original, "the escaped JSON means the same");
        assert_eq!(r.head.matches("</script>").count(), 1);
        assert_eq!(r.head.matches("</style>").count(), 1);
        assert!(r
            .head
            .contains(r##"<meta name="theme-color" content="#2d5a3d">"##));
        assert!(r
            .head
            .contains(r#"<link rel="manifest" href="/_tenant/manifest.webmanifest">"#));
    }

    #[test]
    fn the_head_block_links_the_icon_once_the_favicon_else_the_logo() {
        let r = rendered("{}");
        assert!(
            r.head
                .contains(r#"<link rel="icon" href="https://cdn.example.com/logo.svg?v=1">"#),
            "{}",
            r.head
        );
        let brand = BRAND.replace(
            r#""showPoweredBy":false"#,
            r#""showPoweredBy":false,"favicon":"https://cdn.example.com/i.ico?v=2&amp;s=32""#,
        );
        let r = Rendered::of("{}", "X", Some(&Brand::parse(&brand).unwrap()));
        assert!(r.head.contains(
            r#"<link rel="icon" href="https://cdn.example.com/i.ico?v=2&amp;amp;s=32">"#
        ));
        assert_eq!(r.head.matches("rel=\"icon\"").count(), 1);
    }

    #[test]
    fn attributes_escape_what_could_end_them_or_read_as_a_reference() {
        assert_eq!(attribute(r#"a&b"c<d>"#), "a&amp;b&quot;c&lt;d&gt;");
    }

    #[test]
    fn css_strings_escape_what_could_end_them() {
        assert_eq!(css_string(r#"a"b\c<d>"#), r#""a\22 b\5c c\3c d\3e ""#);
    }

    #[test]
    fn the_manifest_names_the_tenant_and_its_colours() {
        let m: serde_json::Value = serde_json::from_str(&rendered("{}").manifest).unwrap();
        assert_eq!(m["name"], "Leading with Meaning");
        assert_eq!(m["short_name"], "Leading");
        assert_eq!(m["start_url"], "/");
        assert_eq!(m["display"], "standalone");
        assert_eq!(m["theme_color"], "#2d5a3d");
        assert_eq!(m["background_color"], "#fff");
        assert_eq!(m["icons"][0]["src"], "https://cdn.example.com/logo.svg?v=1");
        assert_eq!(m["icons"][0]["type"], "image/svg+xml");
    }

    #[test]
    fn the_manifest_has_the_favicon_and_the_language_when_the_brand_has_them() {
        let m: serde_json::Value = serde_json::from_str(&rendered("{}").manifest).unwrap();
        assert!(m.get("lang").is_none());
        let brand = BRAND.replace(
            r#""showPoweredBy":false"#,
            r#""showPoweredBy":false,"favicon":"https://cdn.example.com/icon.png","locale":"fr-CA""#,
        );
        let r = Rendered::of("{}", "X", Some(&Brand::parse(&brand).unwrap()));
        let m: serde_json::Value = serde_json::from_str(&r.manifest).unwrap();
        assert_eq!(m["lang"], "fr-CA");
        assert_eq!(m["icons"][0]["src"], "https://cdn.example.com/icon.png");
        assert_eq!(m["icons"][0]["type"], "image/png");
    }

    #[test]
    fn short_names_fit() {
        assert_eq!(short_name("Acme"), "Acme");
        assert_eq!(short_name("Northstar Coaching"), "Northstar");
        assert_eq!(short_name("Supercalifragilistic Coaching"), "Supercalifra");
    }

    #[test]
    fn the_tenant_json_in_the_head_is_ascii_and_means_the_same() {
        let json = "{\"displayName\":\"Zoë 🦀 \u{2028} Ünïcode\",\"a\":\"<&>\"}";
        let safe = script_json(json);
        assert!(safe.is_ascii(), "{safe}");
        assert!(safe.contains(r"Zo\u00eb \ud83e\udd80 \u2028"), "{safe}");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        );
    }

    #[test]
    fn a_brand_no_parser_can_read_loses_its_values_not_the_name() {
        let tenant = |width: &str| {
            format!(
                r#"{{"displayName":"Huge Logo","slug":"x","brand":{}}}"#,
                BRAND.replace(
                    r#""alt":"Acme""#,
                    &format!(r#""alt":"Acme","width":{width}"#)
                )
            )
        };
        let fine = Rendered::for_tenant(&tenant("180"));
        assert!(fine.css.contains("--brand-primary"));
        for width in ["1e400", "1e-400"] {
            let r = Rendered::for_tenant(&tenant(width));
            let m: serde_json::Value = serde_json::from_str(&r.manifest).unwrap();
            assert_eq!(m["name"], "Huge Logo", "{width}");
            assert_eq!(&*r.css, ":root {\n}\n", "{width}");
        }
    }

    #[test]
    fn an_invalid_brand_writes_no_brand_value() {
        let r = Rendered::of("{}", "X", None);
        assert_eq!(&*r.css, ":root {\n}\n");
        assert!(!r.head.contains("theme-color") && !r.head.contains("icon"));
        let m: serde_json::Value = serde_json::from_str(&r.manifest).unwrap();
        assert!(m.get("theme_color").is_none() && m.get("icons").is_none());
    }
}
