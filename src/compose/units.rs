//! Compose unit values: durations (`healthcheck.interval`, `stop_grace_period`, ...)
//! parsed exactly like Go's `time.ParseDuration`, and byte sizes (`mem_limit`,
//! `shm_size`, `tmpfs.size`, ...) parsed exactly like docker/go-units `RAMInBytes`
//! (binary multiples, case-insensitive suffix, optional `b`/`ib`). It owns only these
//! string/node -> number conversions; it must not know which compose keys use them, do
//! I/O, or emit diagnostics itself (errors are messages for the caller to place).

use crate::compose::node::{go_float, Node, Value};
use std::time::Duration;

/// What a duration looks like; appended to every duration error.
const DURATION_HELP: &str =
    "expected a duration like 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)";

/// What a byte size looks like; appended to every size error.
const BYTES_HELP: &str =
    "expected a byte size like 512k, 256m or 1g (a number of bytes, optionally followed by b, k, m, g, t or p, with an optional b or ib)";

/// `1 << 63`, the bound Go's duration parser checks against.
const LIMIT: u64 = 1 << 63;

/// Go's `time.ParseDuration`, restricted to non-negative results.
///
/// A duration is a sequence of decimal numbers, each with an optional fraction and a
/// unit suffix (`ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`), e.g. `1m30s`, `1.5h`,
/// `300us`, with an optional leading sign; the bare string `0` is also accepted.
/// Negative durations are rejected because no compose field accepts them.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (nanos, negative) = go_parse_duration(s)?;
    if negative && nanos > 0 {
        return Err(format!(
            "invalid duration {}: negative durations are not allowed here; {DURATION_HELP}",
            go_quote(s)
        ));
    }
    Ok(Duration::from_nanos(nanos))
}

/// The Go algorithm proper: magnitude in nanoseconds and whether a `-` sign was given.
fn go_parse_duration(orig: &str) -> Result<(u64, bool), String> {
    let invalid = || format!("time: invalid duration {}: {DURATION_HELP}", go_quote(orig));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok((0, neg));
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        // The next character must be [0-9.].
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Consume [0-9]*.
        let before = s.len();
        let (mut v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();

        // Consume (\.[0-9]*)?.
        let mut post = false;
        let mut f: u64 = 0;
        let mut scale: f64 = 1.0;
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let before = s.len();
            let (ff, sc, rest) = leading_fraction(s);
            f = ff;
            scale = sc;
            s = rest;
            post = before != s.len();
        }
        if !pre && !post {
            // No digits (e.g. ".s" or "-.s").
            return Err(invalid());
        }

        // Consume the unit: everything up to the next [0-9.].
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(format!(
                "time: missing unit in duration {}: {DURATION_HELP}",
                go_quote(orig)
            ));
        }
        let (u, rest) = s.split_at(i);
        s = rest;
        let unit = match unit_nanos(u) {
            Some(unit) => unit,
            None => {
                let u = String::from_utf8_lossy(u);
                return Err(format!(
                    "time: unknown unit {} in duration {}: {DURATION_HELP}",
                    go_quote(&u),
                    go_quote(orig)
                ));
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // f64 keeps nanosecond accuracy for fractions of hours, as in Go.
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d += v;
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if !neg && d > LIMIT - 1 {
        return Err(invalid());
    }
    Ok((d, neg))
}

fn unit_nanos(u: &[u8]) -> Option<u64> {
    Some(match u {
        b"ns" => 1,
        b"us" => 1_000,
        // U+00B5 micro sign and U+03BC Greek mu.
        b"\xC2\xB5s" | b"\xCE\xBCs" => 1_000,
        b"ms" => 1_000_000,
        b"s" => 1_000_000_000,
        b"m" => 60 * 1_000_000_000,
        b"h" => 3600 * 1_000_000_000,
        _ => return None,
    })
}

/// Go's `leadingInt`: the leading `[0-9]*`; `None` on overflow past `1 << 63`.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > LIMIT {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's `leadingFraction`: the leading `[0-9]*` after a dot; stops gaining precision
/// instead of failing on overflow.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut x: u64 = 0;
    let mut scale = 1.0;
    let mut overflow = false;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        let c = s[i];
        i += 1;
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[i..])
}

/// Go's `time.quote`: double quotes, `"` and `\` escaped, control and non-ASCII bytes
/// as `\xNN`.
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

/// docker/go-units `RAMInBytes`: a decimal number (fractions allowed, truncated after
/// scaling) with an optional, case-insensitive binary suffix `b`, `k`, `m`, `g`, `t`,
/// `p`, each of the last five optionally followed by `b` or `ib` (`1.5g`, `512KiB`,
/// `256 mb`, `100`). Negative sizes are rejected.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let invalid_size = |why: &str| format!("invalid size: '{s}'{why}: {BYTES_HELP}");
    // strings.LastIndexAny(s, "0123456789. "): a byte index of an ASCII byte, so always
    // a char boundary.
    let Some(sep) = s
        .bytes()
        .rposition(|b| b.is_ascii_digit() || b == b'.' || b == b' ')
    else {
        return Err(invalid_size(" (no number)"));
    };
    let (num, sfx) = if s.as_bytes()[sep] == b' ' {
        (&s[..sep], &s[sep + 1..])
    } else {
        (&s[..sep + 1], &s[sep + 1..])
    };
    let mut size = go_parse_float(num).ok_or_else(|| invalid_size(" (not a number)"))?;
    if size < 0.0 {
        return Err(invalid_size(" (negative)"));
    }
    if !sfx.is_empty() {
        let bad_suffix = |sfx: &str| format!("invalid suffix: '{sfx}' in size '{s}': {BYTES_HELP}");
        if sfx.len() > 3 {
            return Err(bad_suffix(sfx));
        }
        let lower = sfx.to_lowercase();
        let b = lower.as_bytes();
        if b[0] == b'b' {
            if b.len() > 1 {
                return Err(bad_suffix(&lower));
            }
        } else {
            let mul: u64 = match b[0] {
                b'k' => 1 << 10,
                b'm' => 1 << 20,
                b'g' => 1 << 30,
                b't' => 1 << 40,
                b'p' => 1 << 50,
                _ => return Err(bad_suffix(&lower)),
            };
            size *= mul as f64;
            let ok = match b.len() {
                2 => b[1] == b'b',
                3 => &b[1..] == b"ib",
                _ => true,
            };
            if !ok {
                return Err(bad_suffix(&lower));
            }
        }
    }
    // int64(size) in Go; anything at or past 2^63 has no meaningful value there.
    if size >= LIMIT as f64 {
        return Err(invalid_size(" (too large)"));
    }
    Ok(size as u64)
}

/// `strconv.ParseFloat(s, 64)` for the decimal forms `parse_bytes` can hand it (the
/// number part always ends in a digit, `.` or space). Rejects what Go rejects: leading
/// or trailing spaces, underscores, out-of-range values. Go's hexadecimal float syntax
/// (`0x1p4`) is not supported.
fn go_parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    // Rust also accepts "inf"/"nan" spellings; Go does too, but never with a trailing
    // digit or dot, which `num` always has. Keep only plain decimal syntax.
    if !body.bytes().all(|b| {
        b.is_ascii_digit() || b == b'.' || b == b'e' || b == b'E' || b == b'+' || b == b'-'
    }) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// A byte size from a YAML node: a non-negative integer is a number of bytes, a string
/// goes through [`parse_bytes`]. Anything else is an error.
pub fn bytes_from_node(node: &Node) -> Result<u64, String> {
    match &node.value {
        Value::Int(i) => {
            u64::try_from(*i).map_err(|_| format!("invalid size: {i} is negative: {BYTES_HELP}"))
        }
        Value::Str(s) => parse_bytes(s),
        _ => Err(format!(
            "invalid size: got a {}, {BYTES_HELP}",
            node.type_name()
        )),
    }
}

/// A duration from a YAML node. Like compose-go, a number is formatted and parsed as a
/// duration string, so `0` is accepted but `10` is "missing unit".
pub fn duration_from_node(node: &Node) -> Result<Duration, String> {
    match &node.value {
        Value::Str(s) => parse_duration(s),
        Value::Int(i) => parse_duration(&i.to_string()),
        Value::Float(f) => parse_duration(&go_float(*f)),
        _ => Err(format!(
            "invalid duration: got a {}, {DURATION_HELP}",
            node.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn ns(n: u64) -> Option<Duration> {
        Some(Duration::from_nanos(n))
    }

    const S: u64 = 1_000_000_000;
    const MS: u64 = 1_000_000;
    const US: u64 = 1_000;

    /// Go's `time` package parseDurationTests (positive cases; negatives are rejected
    /// here by design) plus our own.
    #[test]
    fn durations() {
        let cases: &[(&str, Option<Duration>)] = &[
            // simple
            ("0", ns(0)),
            ("5s", ns(5 * S)),
            ("30s", ns(30 * S)),
            ("1478s", ns(1478 * S)),
            // sign
            ("-0", ns(0)),
            ("+5s", ns(5 * S)),
            ("-5s", None),
            ("-0s", ns(0)),
            // decimal
            ("5.0s", ns(5 * S)),
            ("5.6s", ns(5 * S + 600 * MS)),
            ("5.s", ns(5 * S)),
            (".5s", ns(500 * MS)),
            ("1.0s", ns(S)),
            ("1.00s", ns(S)),
            ("1.004s", ns(S + 4 * MS)),
            ("1.0040s", ns(S + 4 * MS)),
            ("100.00100s", ns(100 * S + MS)),
            // different units
            ("10ns", ns(10)),
            ("11us", ns(11 * US)),
            ("12µs", ns(12 * US)),
            ("12μs", ns(12 * US)),
            ("13ms", ns(13 * MS)),
            ("14s", ns(14 * S)),
            ("15m", ns(15 * 60 * S)),
            ("16h", ns(16 * 3600 * S)),
            // composite durations
            ("3h30m", ns((3 * 3600 + 30 * 60) * S)),
            ("10.5s4m", ns(4 * 60 * S + 10 * S + 500 * MS)),
            (
                "1h2m3s4ms5us6ns",
                ns(3600 * S + 2 * 60 * S + 3 * S + 4 * MS + 5 * US + 6),
            ),
            ("39h9m14.425s", ns((39 * 3600 + 9 * 60 + 14) * S + 425 * MS)),
            // large value
            ("52763797000ns", ns(52_763_797_000)),
            // more than 9 digits after decimal point
            ("0.3333333333333333333h", ns(20 * 60 * S)),
            // 9007199254740993 = 1<<53+1 cannot be stored precisely in a float64
            ("9007199254740993ns", ns((1 << 53) + 1)),
            // largest duration that can be represented by int64 in nanoseconds
            ("9223372036854775807ns", ns((1 << 63) - 1)),
            ("9223372036854775.807us", ns((1 << 63) - 1)),
            ("9223372036s854ms775us807ns", ns((1 << 63) - 1)),
            // huge string; issue 15011.
            ("0.100000000000000000000h", ns(6 * 60 * S)),
            // This value tests the first overflow check in leadingFraction.
            (
                "0.830103483285477580700h",
                ns(49 * 60 * S + 48 * S + 372_539_827),
            ),
            // examples from the brief
            ("1m30s", ns(90 * S)),
            ("1.5h", ns(5400 * S)),
            ("10ms", ns(10 * MS)),
            ("300us", ns(300 * US)),
            // errors (Go's parseDurationErrorTests)
            ("", None),
            ("3", None),
            ("-", None),
            ("s", None),
            (".", None),
            ("-.", None),
            (".s", None),
            ("+.s", None),
            ("1d", None),
            ("\u{85}\u{85}", None),
            ("\u{FFFD}", None),
            ("9223372036854775810ns", None),
            ("9223372036854775808ns", None),
            ("9223372036854775.808us", None),
            ("9223372036854ms775us808ns", None),
            ("3000000h", None),
            (" 5s", None),
            ("5s ", None),
            ("5 s", None),
            ("5S", None),
        ];
        for (input, want) in cases {
            let got = parse_duration(input).ok();
            assert_eq!(got, *want, "parse_duration({input:?})");
        }
    }

    #[test]
    fn duration_errors_say_what_is_valid() {
        let cases: &[(&str, &str)] = &[
            ("", r#"time: invalid duration """#),
            ("3", r#"time: missing unit in duration "3""#),
            ("1d", r#"time: unknown unit "d" in duration "1d""#),
            (
                "1µd",
                r#"time: unknown unit "\xc2\xb5d" in duration "1\xc2\xb5d""#,
            ),
            ("-5s", "negative durations are not allowed"),
            ("abc", r#"time: invalid duration "abc""#),
        ];
        for (input, want) in cases {
            let err = parse_duration(input).unwrap_err();
            assert!(err.contains(want), "{input:?}: {err}");
            assert!(
                err.contains("expected a duration like 30s, 1m30s or 500ms"),
                "{err}"
            );
        }
    }

    #[test]
    fn bytes() {
        const K: u64 = 1024;
        const M: u64 = K * K;
        const G: u64 = M * K;
        const T: u64 = G * K;
        const P: u64 = T * K;
        // docker/go-units TestRAMInBytes, plus the brief's examples.
        let cases: &[(&str, Option<u64>)] = &[
            ("32", Some(32)),
            ("32b", Some(32)),
            ("32B", Some(32)),
            ("32k", Some(32 * K)),
            ("32K", Some(32 * K)),
            ("32kb", Some(32 * K)),
            ("32Kb", Some(32 * K)),
            ("32Kib", Some(32 * K)),
            ("32KIB", Some(32 * K)),
            ("32Mb", Some(32 * M)),
            ("32Gb", Some(32 * G)),
            ("32Tb", Some(32 * T)),
            ("32Pb", Some(32 * P)),
            ("32PB", Some(32 * P)),
            ("32P", Some(32 * P)),
            ("32.3", Some(32)),
            ("32.3 mb", Some((32.3 * M as f64) as u64)),
            ("32.3 MiB", Some((32.3 * M as f64) as u64)),
            ("0.3MB", Some((0.3 * M as f64) as u64)),
            ("0.3 MiB", Some((0.3 * M as f64) as u64)),
            ("1e3", Some(1000)),
            ("256m", Some(256 * M)),
            ("1g", Some(G)),
            ("512k", Some(512 * K)),
            ("1gb", Some(G)),
            ("100", Some(100)),
            ("1.5g", Some(G + G / 2)),
            ("0", Some(0)),
            ("", None),
            ("hello", None),
            ("-32", None),
            (" 32 ", None),
            ("32m b", None),
            ("32bm", None),
            ("32 MB ", None),
            ("32ki", None),
            ("32kib ", None),
            ("32mbb", None),
            ("32mib!", None),
            ("32x", None),
            ("1_000", None),
            ("1e400", None),
            ("10000000p", None),
            ("inf", None),
            ("NaN", None),
        ];
        for (input, want) in cases {
            let got = parse_bytes(input).ok();
            assert_eq!(got, *want, "parse_bytes({input:?})");
        }
    }

    #[test]
    fn byte_errors_say_what_is_valid() {
        let cases: &[(&str, &str)] = &[
            ("hello", "invalid size: 'hello'"),
            ("-32", "invalid size: '-32'"),
            ("32x", "invalid suffix: 'x'"),
            ("32KI", "invalid suffix: 'ki'"),
            ("32kbyt", "invalid suffix: 'kbyt'"),
        ];
        for (input, want) in cases {
            let err = parse_bytes(input).unwrap_err();
            assert!(err.contains(want), "{input:?}: {err}");
            assert!(
                err.contains("expected a byte size like 512k, 256m or 1g"),
                "{err}"
            );
        }
    }

    #[test]
    fn from_nodes() {
        let span = Span::default();
        let n = |v: Value| Node::new(v, span);
        assert_eq!(bytes_from_node(&n(Value::Int(1024))), Ok(1024));
        assert_eq!(bytes_from_node(&n(Value::Str("1k".into()))), Ok(1024));
        assert!(bytes_from_node(&n(Value::Int(-1))).is_err());
        assert!(bytes_from_node(&n(Value::Bool(true))).is_err());
        assert!(bytes_from_node(&n(Value::Float(1.5))).is_err());
        assert_eq!(
            duration_from_node(&n(Value::Str("1m".into()))),
            Ok(Duration::from_secs(60))
        );
        assert_eq!(duration_from_node(&n(Value::Int(0))), Ok(Duration::ZERO));
        let err = duration_from_node(&n(Value::Int(10))).unwrap_err();
        assert!(err.contains("missing unit"), "{err}");
        assert!(duration_from_node(&n(Value::Null)).is_err());
    }
}
