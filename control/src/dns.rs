//! Lookups over DNS over HTTPS, JSON API: the query URL and what an answer means.
//!
//! A coach proves control of a hostname's DNS with a TXT record holding their claim's token;
//! the cron asks a resolver (`DNS_RESOLVER_URL`) for it: `GET <resolver>?name=<name>&type=TXT`
//! with `accept: application/dns-json`, answered
//! `{"Status":0,"TC":false,…,"Question":[{"name","type"}],"Answer":[{"name","type","TTL","data"}]}`
//! ([Cloudflare](https://developers.cloudflare.com/1.1.1.1/encryption/dns-over-https/make-api-requests/dns-json/),
//! [Google](https://developers.google.com/speed/public-dns/docs/doh/json)). [`read`] sorts an
//! answer into [`Lookup`]: the TXT values at the name, a definitive "there is none", or "we do
//! not know" — a resolver failing must never read as a record removed. The doctor
//! (`crate::doctor`) asks the same resolver for A, AAAA, CAA and TXT records ([`read_answer`]:
//! the CNAME chain followed and the records of the asked type on it).
//!
//! What is read is bounded: [`MAX_BODY_BYTES`] of body, the first [`MAX_ANSWERS`] records,
//! values of at most [`MAX_VALUE_BYTES`], at most [`MAX_CNAME_HOPS`] aliases followed.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

/// Longest answer body read; a longer one is [`Lookup::Unknown`]. Four times the largest DNS
/// message (64 KiB), as every byte of a TXT value may be written `\DDD`.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Answer records read; the rest of the `Answer` array is skipped unread.
pub const MAX_ANSWERS: usize = 50;
/// Longest TXT value kept (after its character-strings are joined); a longer one is dropped.
pub const MAX_VALUE_BYTES: usize = 1024;
/// CNAME records followed from the queried name.
pub const MAX_CNAME_HOPS: usize = 8;

/// RR type numbers, as the JSON API gives them.
const CNAME: u16 = 5;
const TXT: u16 = 16;

/// A record type the control plane asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 addresses.
    A,
    /// IPv6 addresses.
    Aaaa,
    /// Certification Authority Authorization (RFC 8659).
    Caa,
    /// Text: the proof of control, and a leftover `_acme-challenge`.
    Txt,
}

impl RecordType {
    /// The type's name, as a query names it.
    pub fn name(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Caa => "CAA",
            RecordType::Txt => "TXT",
        }
    }

    /// The type's number, as an answer gives it.
    fn number(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Aaaa => 28,
            RecordType::Caa => 257,
            RecordType::Txt => TXT,
        }
    }
}

/// A definitive answer to a query: what the name's CNAME chain and records of the asked type
/// are. An NXDOMAIN is an answer with neither.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The names the queried name's CNAME records lead to, in order: lowercase, without the
    /// trailing dot.
    pub aliases: Vec<String>,
    /// The `data` of the records of the asked type at the name or on its chain, as given.
    pub values: Vec<String>,
}
/// Response codes (RFC 1035 §4.1.1, RFC 6895).
const NOERROR: i64 = 0;
const NXDOMAIN: i64 = 3;
/// Longest piece of a resolver's body kept in an [`Lookup::Unknown`].
const DETAIL_LIMIT: usize = 200;

/// What a TXT lookup says about a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The name, or a name its CNAME chain leads to, has TXT records: each value with its
    /// character-strings joined (RFC 7208 §3.3: `"a" "b"` is `ab`) and escapes decoded. Values
    /// longer than [`MAX_VALUE_BYTES`] are dropped, so this may be empty.
    Found(Vec<String>),
    /// A definitive answer that there is no TXT record: NXDOMAIN, or NOERROR without a TXT
    /// record at the name or on its CNAME chain.
    Absent,
    /// Not a definitive answer (SERVFAIL, REFUSED, another status, a truncated answer, an HTTP
    /// status other than 200, a body that is not the JSON API's, a timeout); says why, for the
    /// log. The caller decides nothing on it and asks again later.
    Unknown(String),
}

/// The URL that asks `resolver` for the records of type `kind` at `name`, the name
/// form-encoded.
pub fn query_url(resolver: &str, name: &str, kind: RecordType) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("name", name)
        .append_pair("type", kind.name())
        .finish();
    let separator = if resolver.contains('?') { '&' } else { '?' };
    format!("{resolver}{separator}{query}")
}

/// Reads a resolver's answer (HTTP `status` and `body`) to a TXT query for `name`.
///
/// Only a 200 whose body has the API's shape, is not truncated, answers this very question
/// (its `Question`, when given, is `name` and TXT) and has Status NOERROR or NXDOMAIN is a
/// definitive answer; TXT records at other names (beside the CNAME chain) are not `name`'s.
pub fn read(status: u16, body: &str, name: &str) -> Lookup {
    match read_answer(status, body, name, RecordType::Txt) {
        Err(why) => Lookup::Unknown(why),
        Ok(answer) if answer.values.is_empty() => Lookup::Absent,
        Ok(answer) => Lookup::Found(answer.values.iter().filter_map(|v| txt_value(v)).collect()),
    }
}

/// Reads a resolver's answer to a query of type `kind` for `name`, as [`read`] does: `Err`
/// (why, for the log) when it is not definitive.
pub fn read_answer(
    status: u16,
    body: &str,
    name: &str,
    kind: RecordType,
) -> Result<Answer, String> {
    if status != 200 {
        return Err(format!("resolver answered HTTP {status}: {}", cut(body)));
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(format!(
            "resolver answered {} bytes, more than {MAX_BODY_BYTES}",
            body.len()
        ));
    }
    let message: Message = match serde_json::from_str(body) {
        Ok(message) => message,
        Err(e) => return Err(format!("not a DNS JSON answer ({e}): {}", cut(body))),
    };
    if message.truncated {
        return Err("the answer is truncated (TC)".into());
    }
    if let Some(q) = message.question.0.first() {
        if !same_name(&q.name, name) || q.kind != kind.number() {
            return Err(format!(
                "the answer is to another question: {} type {}",
                cut(&q.name),
                q.kind
            ));
        }
    }
    // An NXDOMAIN may still carry the CNAME chain that led to a name that does not exist.
    if !matches!(message.status, NOERROR | NXDOMAIN) {
        return Err(format!("resolver answered {}", rcode(message.status)));
    }
    let records = &message.answer.0;
    let chain = aliases(name, records);
    let values = records
        .iter()
        .filter(|r| r.kind == kind.number() && chain.iter().any(|n| same_name(&r.name, n)))
        .map(|r| r.data.clone())
        .collect();
    Ok(Answer {
        aliases: chain[1..].iter().map(|n| bare_name(n)).collect(),
        values,
    })
}

/// The TXT values of an answer to a TXT query, decoded as [`read`] decodes them.
pub fn txt_values(answer: &Answer) -> Vec<String> {
    answer.values.iter().filter_map(|v| txt_value(v)).collect()
}

/// A name as compared and shown: lowercase, without its trailing dot.
pub fn bare_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Whether one of `found` is `token`, ASCII whitespace around either ignored. An empty token
/// matches nothing.
pub fn has_token(found: &[String], token: &str) -> bool {
    let token = token.trim_ascii();
    !token.is_empty() && found.iter().any(|v| v.trim_ascii() == token)
}

/// An answer of the JSON API, as far as it is read; other fields (`RD`, `AD`, `Authority`,
/// Google's `Comment`…) are ignored.
#[derive(Deserialize)]
struct Message {
    #[serde(rename = "Status")]
    status: i64,
    #[serde(rename = "TC", default)]
    truncated: bool,
    #[serde(rename = "Question", default)]
    question: Capped<Question>,
    #[serde(rename = "Answer", default)]
    answer: Capped<Record>,
}

#[derive(Deserialize)]
struct Question {
    name: String,
    #[serde(rename = "type")]
    kind: u16,
}

#[derive(Deserialize)]
struct Record {
    name: String,
    #[serde(rename = "type")]
    kind: u16,
    data: String,
}

/// The first [`MAX_ANSWERS`] elements of a JSON array; the rest are parsed but not kept.
struct Capped<T>(Vec<T>);

impl<T> Default for Capped<T> {
    fn default() -> Self {
        Capped(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Capped<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Elements<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<T> {
            type Value = Capped<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped<T>, A::Error> {
                let mut kept = Vec::new();
                while kept.len() < MAX_ANSWERS {
                    match seq.next_element()? {
                        Some(element) => kept.push(element),
                        None => return Ok(Capped(kept)),
                    }
                }
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Capped(kept))
            }
        }
        d.deserialize_seq(Elements(PhantomData))
    }
}

/// `name` and the names its CNAME records lead to, in order, without loops.
fn aliases<'a>(name: &'a str, records: &'a [Record]) -> Vec<&'a str> {
    let mut chain = vec![name];
    let mut current = name;
    for _ in 0..MAX_CNAME_HOPS {
        let Some(next) = records
            .iter()
            .find(|r| r.kind == CNAME && same_name(&r.name, current))
        else {
            break;
        };
        if chain.iter().any(|n| same_name(n, &next.data)) {
            break;
        }
        current = &next.data;
        chain.push(current);
    }
    chain
}

/// Whether two domain names are the same: ASCII case ignored, a trailing dot optional.
fn same_name(a: &str, b: &str) -> bool {
    fn bare(n: &str) -> &str {
        n.strip_suffix('.').unwrap_or(n)
    }
    bare(a).eq_ignore_ascii_case(bare(b))
}

/// A TXT record's value from the API's `data`: Cloudflare writes the record's
/// character-strings in zone-file form (`"a" "b"`, RFC 1035 §5.1), joined here; Google writes
/// the value as it is. `None` when longer than [`MAX_VALUE_BYTES`].
fn txt_value(data: &str) -> Option<String> {
    let value = character_strings(data).unwrap_or_else(|| data.as_bytes().to_vec());
    (value.len() <= MAX_VALUE_BYTES).then(|| String::from_utf8_lossy(&value).into_owned())
}

/// The bytes of zone-file quoted character-strings, joined; `None` when `data` is not only
/// quoted strings (then it is taken as written) or grows past [`MAX_VALUE_BYTES`].
fn character_strings(data: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut bytes = data.bytes();
    let mut strings = 0;
    loop {
        match bytes.find(|b| !b.is_ascii_whitespace()) {
            None if strings > 0 => return Some(out),
            Some(b'"') => strings += 1,
            _ => return None,
        }
        loop {
            match bytes.next()? {
                b'"' => break,
                b'\\' => match bytes.next()? {
                    d @ b'0'..=b'9' => {
                        let digit = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
                        let (d2, d3) = (digit(bytes.next()?)?, digit(bytes.next()?)?);
                        let code = u32::from(d - b'0') * 100 + d2 * 10 + d3;
                        out.push(u8::try_from(code).ok()?);
                    }
                    other => out.push(other),
                },
                other => out.push(other),
            }
            if out.len() > MAX_VALUE_BYTES {
                return None;
            }
        }
    }
}

/// A response code by its name, for the log.
fn rcode(status: i64) -> String {
    let name = match status {
        1 => "FORMERR",
        2 => "SERVFAIL",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "status",
    };
    format!("{name} ({status})")
}

/// `text` cut to [`DETAIL_LIMIT`] characters.
fn cut(text: &str) -> String {
    text.chars().take(DETAIL_LIMIT).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "_coachplatform-challenge.coach.example.com";
    const TOKEN: &str = "d1c2a4f0e5b34c7e9a1f";

    /// An answer of Cloudflare's shape to a TXT query for `NAME`, with these `Answer` records.
    fn answer(status: i64, records: serde_json::Value) -> String {
        serde_json::json!({
            "Status": status, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
            "Question": [{"name": format!("{NAME}."), "type": 16}],
            "Answer": records,
        })
        .to_string()
    }

    fn txt(name: &str, data: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "type": 16, "TTL": 300, "data": data})
    }

    fn cname(name: &str, target: &str) -> serde_json::Value {
        serde_json::json!({"name": name, "type": 5, "TTL": 300, "data": target})
    }

    fn found(values: &[&str]) -> Lookup {
        Lookup::Found(values.iter().map(|v| v.to_string()).collect())
    }

    fn is_unknown(lookup: &Lookup) -> bool {
        matches!(lookup, Lookup::Unknown(_))
    }

    #[test]
    fn the_query_url_encodes_the_name() {
        let txt_query_url = |resolver: &str, name: &str| query_url(resolver, name, RecordType::Txt);
        assert_eq!(
            txt_query_url("https://cloudflare-dns.com/dns-query", NAME),
            format!("https://cloudflare-dns.com/dns-query?name={NAME}&type=TXT")
        );
        assert_eq!(
            txt_query_url("http://127.0.0.1:9/resolve", "a&b=c d#e"),
            "http://127.0.0.1:9/resolve?name=a%26b%3Dc+d%23e&type=TXT"
        );
        assert_eq!(
            txt_query_url("https://dns.example/q?ct=application/dns-json", "a.b"),
            "https://dns.example/q?ct=application/dns-json&name=a.b&type=TXT"
        );
    }

    #[test]
    fn a_cloudflare_answer_is_found() {
        let body = format!(
            r#"{{"Status":0,"TC":false,"RD":true,"RA":true,"AD":false,"CD":false,"Question":[{{"name":"{NAME}.","type":16}}],"Answer":[{{"name":"{NAME}.","type":16,"TTL":300,"data":"\"{TOKEN}\""}}]}}"#
        );
        assert_eq!(read(200, &body, NAME), found(&[TOKEN]));
    }

    #[test]
    fn a_google_answer_is_found() {
        let body = format!(
            r#"{{"Status":0,"TC":false,"RD":true,"RA":true,"AD":false,"CD":false,
                "Question":[{{"name":"{NAME}.","type":16}}],
                "Answer":[{{"name":"{NAME}.","type":16,"TTL":299,"data":"v=spf1 -all"}},
                          {{"name":"{NAME}.","type":16,"TTL":299,"data":"{TOKEN}"}}],
                "Comment":"Response from 2001:db8::1.","edns_client_subnet":"12.34.56.78/0"}}"#
        );
        let lookup = read(200, &body, NAME);
        assert_eq!(lookup, found(&["v=spf1 -all", TOKEN]));
    }

    #[test]
    fn nxdomain_is_absent() {
        let body = serde_json::json!({
            "Status": 3, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
            "Question": [{"name": format!("{NAME}."), "type": 16}],
            "Authority": [{"name": "example.com.", "type": 6, "TTL": 1800,
                "data": "ns.icann.org. noc.dns.icann.org. 2025011636 7200 3600 1209600 3600"}],
        });
        assert_eq!(read(200, &body.to_string(), NAME), Lookup::Absent);
    }

    #[test]
    fn noerror_without_answer_is_absent() {
        let body = serde_json::json!({
            "Status": 0, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
            "Question": [{"name": format!("{NAME}."), "type": 16}],
        });
        assert_eq!(read(200, &body.to_string(), NAME), Lookup::Absent);
        assert_eq!(
            read(200, &answer(0, serde_json::json!([])), NAME),
            Lookup::Absent
        );
    }

    #[test]
    fn a_txt_at_another_name_is_absent() {
        let body = answer(0, serde_json::json!([txt("coach.example.com.", TOKEN)]));
        assert_eq!(read(200, &body, NAME), Lookup::Absent);
    }

    #[test]
    fn a_cname_chain_is_followed() {
        let body = answer(
            0,
            serde_json::json!([
                cname(&format!("{NAME}."), "challenges.dns-host.net."),
                cname("challenges.dns-host.net.", "c1.dns-host.net."),
                txt("c1.dns-host.net.", &format!("\"{TOKEN}\"")),
            ]),
        );
        assert_eq!(read(200, &body, NAME), found(&[TOKEN]));
        let dangling = answer(0, serde_json::json!([cname(NAME, "c1.dns-host.net.")]));
        assert_eq!(read(200, &dangling, NAME), Lookup::Absent);
        let beside = answer(
            0,
            serde_json::json!([
                cname(NAME, "c1.dns-host.net."),
                txt("c2.dns-host.net.", TOKEN)
            ]),
        );
        assert_eq!(read(200, &beside, NAME), Lookup::Absent);
    }

    #[test]
    fn a_cname_loop_ends() {
        let body = answer(
            0,
            serde_json::json!([
                cname(NAME, "a.dns-host.net."),
                cname("a.dns-host.net.", NAME)
            ]),
        );
        assert_eq!(read(200, &body, NAME), Lookup::Absent);
    }

    #[test]
    fn names_compare_without_case_or_trailing_dot() {
        let upper = NAME.to_ascii_uppercase();
        let body = answer(0, serde_json::json!([txt(&upper, TOKEN)]));
        assert_eq!(read(200, &body, &format!("{NAME}.")), found(&[TOKEN]));
    }

    #[test]
    fn split_character_strings_are_joined() {
        let body = answer(
            0,
            serde_json::json!([
                txt(NAME, r#""v=DKIM1; k=rsa; p=MIGf" "MA0GCSqG""SIb3""#),
                txt(NAME, r#""""#),
            ]),
        );
        assert_eq!(
            read(200, &body, NAME),
            found(&["v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3", ""])
        );
    }

    #[test]
    fn escapes_are_decoded() {
        let body = answer(
            0,
            serde_json::json!([txt(NAME, r#""say \"hi\" \\ \065\032\195\169 \;""#)]),
        );
        assert_eq!(read(200, &body, NAME), found(&["say \"hi\" \\ A é ;"]));
    }

    #[test]
    fn unbalanced_quoting_is_taken_as_written() {
        for data in [r#""open"#, r#""a" b"#, r#""bad \99""#, r#""bad \256""#] {
            let body = answer(0, serde_json::json!([txt(NAME, data)]));
            assert_eq!(read(200, &body, NAME), found(&[data]), "{data}");
        }
    }

    #[test]
    fn long_values_are_dropped() {
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let quoted = format!("\"{}\" \"{}\"", "y".repeat(600), "y".repeat(600));
        let body = answer(
            0,
            serde_json::json!([txt(NAME, &long), txt(NAME, &quoted), txt(NAME, TOKEN)]),
        );
        assert_eq!(read(200, &body, NAME), found(&[TOKEN]));
        let only_long = answer(0, serde_json::json!([txt(NAME, &long)]));
        assert_eq!(read(200, &only_long, NAME), Lookup::Found(vec![]));
    }

    #[test]
    fn answers_past_the_cap_are_ignored() {
        let mut records: Vec<_> = (0..MAX_ANSWERS)
            .map(|i| txt(NAME, &format!("v{i}")))
            .collect();
        records.push(txt(NAME, TOKEN));
        let Lookup::Found(values) = read(200, &answer(0, records.into()), NAME) else {
            panic!("expected found");
        };
        assert_eq!(values.len(), MAX_ANSWERS);
        assert!(!has_token(&values, TOKEN));
    }

    #[test]
    fn servfail_refused_and_other_statuses_are_unknown() {
        for status in [1, 2, 4, 5, 9, -1] {
            let lookup = read(200, &answer(status, serde_json::json!([])), NAME);
            assert!(is_unknown(&lookup), "{status}: {lookup:?}");
        }
        let Lookup::Unknown(why) = read(200, &answer(2, serde_json::json!([])), NAME) else {
            unreachable!()
        };
        assert!(why.contains("SERVFAIL"), "{why}");
    }

    #[test]
    fn a_truncated_answer_is_unknown() {
        let body = answer(0, serde_json::json!([txt(NAME, TOKEN)]))
            .replace(r#""TC":false"#, r#""TC":true"#);
        assert!(is_unknown(&read(200, &body, NAME)));
    }

    #[test]
    fn an_answer_to_another_question_is_unknown() {
        let other_name = answer(0, serde_json::json!([])).replace(NAME, "other.example.com");
        assert!(is_unknown(&read(200, &other_name, NAME)));
        let other_type = answer(0, serde_json::json!([])).replace(r#""type":16"#, r#""type":1"#);
        assert!(is_unknown(&read(200, &other_type, NAME)));
    }

    #[test]
    fn garbage_is_unknown() {
        for body in [
            "",
            "not json",
            "<html>502</html>",
            "[]",
            r#"{"error":"Invalid DNS name"}"#,
            r#"{"Status":"0"}"#,
            r#"{"Status":0,"Answer":{"name":"a"}}"#,
            r#"{"Status":0,"Answer":[{"name":"a","type":16}]}"#,
        ] {
            assert!(is_unknown(&read(200, body, NAME)), "{body}");
        }
        let huge = " ".repeat(MAX_BODY_BYTES + 1);
        assert!(is_unknown(&read(200, &huge, NAME)));
    }

    #[test]
    fn non_200_is_unknown() {
        let body = answer(0, serde_json::json!([txt(NAME, TOKEN)]));
        for status in [201, 301, 400, 404, 429, 500, 503] {
            assert!(is_unknown(&read(status, &body, NAME)), "{status}");
        }
    }

    #[test]
    fn the_query_url_names_the_type() {
        for (kind, name) in [
            (RecordType::A, "A"),
            (RecordType::Aaaa, "AAAA"),
            (RecordType::Caa, "CAA"),
        ] {
            assert_eq!(
                query_url("https://dns.example/q", "a.test", kind),
                format!("https://dns.example/q?name=a.test&type={name}")
            );
        }
    }

    #[test]
    fn an_address_answer_follows_the_cname_chain() {
        let body = serde_json::json!({
            "Status": 0, "TC": false,
            "Question": [{"name": "coach.example.com.", "type": 1}],
            "Answer": [
                {"name": "coach.example.com.", "type": 5, "TTL": 300, "data": "Customers.CoachPlatform.com."},
                {"name": "customers.coachplatform.com.", "type": 1, "TTL": 300, "data": "104.16.1.1"},
                {"name": "other.example.com.", "type": 1, "TTL": 300, "data": "192.0.2.1"},
            ],
        })
        .to_string();
        let answer = read_answer(200, &body, "coach.example.com", RecordType::A).unwrap();
        assert_eq!(answer.aliases, ["customers.coachplatform.com"]);
        assert_eq!(answer.values, ["104.16.1.1"]);
        assert!(
            read_answer(200, &body, "coach.example.com", RecordType::Aaaa).is_err(),
            "an answer to another type"
        );
        let dangling = serde_json::json!({
            "Status": 3,
            "Question": [{"name": "coach.example.com.", "type": 1}],
            "Answer": [{"name": "coach.example.com.", "type": 5, "TTL": 300, "data": "gone.example.net."}],
        })
        .to_string();
        let answer = read_answer(200, &dangling, "coach.example.com", RecordType::A).unwrap();
        assert_eq!(
            (answer.aliases, answer.values),
            (vec!["gone.example.net".to_string()], vec![]),
            "a CNAME to a name that does not exist is still a CNAME"
        );
    }

    #[test]
    fn caa_data_is_kept_as_given_and_nxdomain_is_empty() {
        let body = serde_json::json!({
            "Status": 0,
            "Question": [{"name": "example.com.", "type": 257}],
            "Answer": [{"name": "example.com.", "type": 257, "TTL": 300, "data": "0 issue \"letsencrypt.org\""}],
        })
        .to_string();
        let answer = read_answer(200, &body, "example.com", RecordType::Caa).unwrap();
        assert_eq!(answer.values, [r#"0 issue "letsencrypt.org""#]);
        let nx = r#"{"Status":3,"Question":[{"name":"example.com.","type":257}]}"#;
        assert_eq!(
            read_answer(200, nx, "example.com", RecordType::Caa),
            Ok(Answer::default())
        );
        let servfail = r#"{"Status":2,"Question":[{"name":"example.com.","type":257}]}"#;
        assert!(read_answer(200, servfail, "example.com", RecordType::Caa).is_err());
    }

    #[test]
    fn tokens_match_after_trimming() {
        let values = vec!["v=spf1 -all".to_string(), format!(" {TOKEN}\t")];
        assert!(has_token(&values, TOKEN));
        assert!(!has_token(&values, &TOKEN[1..]));
        assert!(!has_token(&[TOKEN.to_ascii_uppercase()], TOKEN));
        assert!(!has_token(&[format!("{TOKEN} x")], TOKEN));
    }

    #[test]
    fn an_empty_token_never_matches() {
        assert!(!has_token(&[String::new(), " ".into()], ""));
        assert!(!has_token(&[String::new()], "  "));
    }
}
