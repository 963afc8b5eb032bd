//! Kubernetes name rules: validators that mirror the apiserver's regular expressions
//! (`k8s.io/apimachinery/pkg/util/validation`) and sanitisers that turn an arbitrary
//! compose name into a valid name of each kind. Sanitising is deterministic and
//! conservative: a name that is already valid is returned unchanged; otherwise upper case
//! is lowered, every other invalid character (`_`, `.` in labels, spaces, non-ASCII ...)
//! becomes `-`, dash runs collapse and leading/trailing dashes go. A name that is still
//! too long is cut and gets `-` plus 8 hex digits of the SHA-256 of the full sanitised
//! name, so two long names that differ only after the cut stay distinct while names that
//! sanitise to the same string still collide (callers report those as errors).
//! This module only knows strings: it never reports, reads input or decides which rule
//! an object kind needs (that is `lower::names`).

use sha2::{Digest, Sha256};

/// Longest DNS-1123 / DNS-1035 label.
pub const LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub const SUBDOMAIN_MAX: usize = 253;
/// Longest IANA service name (container and Service port names).
pub const IANA_SVC_NAME_MAX: usize = 15;

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (no length check).
fn label_chars_ok(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(&f), Some(&l)) => {
            is_lower_alnum(f)
                && is_lower_alnum(l)
                && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
        }
        _ => false,
    }
}

/// DNS-1123 label: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters
/// (container names, pod volume names, most label-like names).
pub fn is_valid_dns1123_label(s: &str) -> bool {
    s.len() <= LABEL_MAX && label_chars_ok(s)
}

/// DNS-1123 subdomain: `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`,
/// at most 253 characters (ConfigMap, Secret, PVC, Deployment ... names).
pub fn is_valid_dns1123_subdomain(s: &str) -> bool {
    s.len() <= SUBDOMAIN_MAX && s.split('.').all(label_chars_ok)
}

/// DNS-1035 label: `^[a-z]([-a-z0-9]*[a-z0-9])?$`, at most 63 characters (Service names).
pub fn is_valid_dns1035_label(s: &str) -> bool {
    is_valid_dns1123_label(s) && s.as_bytes().first().is_some_and(|c| c.is_ascii_lowercase())
}

/// IANA_SVC_NAME (RFC 6335): at most 15 characters of `[-a-z0-9]`, at least one letter,
/// no leading or trailing `-`, no `--`. Container and Service port names.
pub fn is_valid_iana_svc_name(s: &str) -> bool {
    s.len() <= IANA_SVC_NAME_MAX
        && label_chars_ok(s)
        && !s.contains("--")
        && s.bytes().any(|c| c.is_ascii_lowercase())
}

/// Environment variable name as every Kubernetes version accepts it (the classic rule,
/// before the relaxed validation of 1.30+): `^[-._a-zA-Z][-._a-zA-Z0-9]*$`.
pub fn is_valid_env_var_name(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_';
    match b.first() {
        Some(&f) => !f.is_ascii_digit() && b.iter().all(|&c| ok(c)),
        None => false,
    }
}

/// Qualified name, the rule of label and annotation keys: an optional DNS-1123
/// subdomain prefix and `/`, then a name of at most 63 characters matching
/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
pub fn is_valid_qualified_name(s: &str) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix {
        if p.is_empty() || !is_valid_dns1123_subdomain(p) {
            return false;
        }
    }
    let b = name.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    name.len() <= LABEL_MAX
        && b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// First 8 hex digits of the SHA-256 of `s`.
pub fn short_hash(s: &str) -> String {
    let digest = Sha256::digest(s.as_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Lower-case; characters outside `[a-z0-9]` (and `.` when `keep_dots`) become `-`;
/// dash runs collapse; dashes next to a dot or at either end are trimmed; empty dot
/// segments are dropped.
fn clean(s: &str, keep_dots: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        let c = ch.to_ascii_lowercase();
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || (keep_dots && c == '.') {
            c
        } else {
            '-'
        };
        match (out.chars().last(), c) {
            // Collapse runs; drop dashes after a dot or at the start.
            (None | Some('-') | Some('.'), '-') => {}
            // A dot after a dash replaces the dash; dots after dots / at the start vanish.
            (Some('-'), '.') => {
                out.pop();
                if !out.is_empty() && !out.ends_with('.') {
                    out.push('.');
                }
            }
            (None | Some('.'), '.') => {}
            _ => out.push(c),
        }
    }
    while out.ends_with('-') || out.ends_with('.') {
        out.pop();
    }
    out
}

/// Cut `s` to `max` characters by keeping a prefix and appending `-` + [`short_hash`] of
/// `s`. `s` is ASCII (the output of [`clean`]).
fn shorten(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let hash = short_hash(s);
    let mut keep = s[..max - hash.len() - 1].to_string();
    while keep.ends_with('-') || keep.ends_with('.') {
        keep.pop();
    }
    if keep.is_empty() {
        return hash;
    }
    format!("{keep}-{hash}")
}

/// Name for an input that sanitises to nothing (`"___"`): `x-` + hash of the input.
fn placeholder(original: &str) -> String {
    format!("x-{}", short_hash(original))
}

/// Sanitise to a DNS-1123 label (see the module doc). Valid input is returned as is.
pub fn dns1123_label(s: &str) -> String {
    if is_valid_dns1123_label(s) {
        return s.to_string();
    }
    let c = clean(s, false);
    if c.is_empty() {
        return placeholder(s);
    }
    shorten(&c, LABEL_MAX)
}

/// Sanitise to a DNS-1123 subdomain (dots kept, empty segments dropped).
pub fn dns1123_subdomain(s: &str) -> String {
    if is_valid_dns1123_subdomain(s) {
        return s.to_string();
    }
    let c = clean(s, true);
    if c.is_empty() {
        return placeholder(s);
    }
    shorten(&c, SUBDOMAIN_MAX)
}

/// Sanitise to a DNS-1035 label: like [`dns1123_label`], and a name that would start
/// with a digit gets the prefix `s-` (`2048` -> `s-2048`).
pub fn dns1035_label(s: &str) -> String {
    if is_valid_dns1035_label(s) {
        return s.to_string();
    }
    let c = clean(s, false);
    if c.is_empty() {
        return placeholder(s);
    }
    let c = if c.as_bytes()[0].is_ascii_digit() {
        format!("s-{c}")
    } else {
        c
    };
    shorten(&c, LABEL_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    // The apiserver's expressions, verbatim.
    const DNS1123_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    const DNS1123_SUBDOMAIN: &str =
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    const DNS1035_LABEL: &str = "^[a-z]([-a-z0-9]*[a-z0-9])?$";
    const IANA_CHARS: &str = "^[-a-z0-9]+$";
    const IANA_LETTER: &str = "[a-z]";
    const QUALIFIED_NAME: &str = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";
    const ENV_VAR: &str = "^[-._a-zA-Z][-._a-zA-Z0-9]*$";

    fn re(s: &str) -> Regex {
        Regex::new(s).unwrap()
    }

    fn long(n: usize) -> String {
        "a".repeat(n)
    }

    fn samples() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            "a",
            "A",
            "0",
            "-",
            "web",
            "my-app",
            "my_app",
            "my.app",
            "My_App",
            "a-",
            "-a",
            "a--b",
            "2048",
            "1web",
            "web1",
            "a.b.c",
            "a..b",
            ".a",
            "a.",
            "a.-b",
            "a-.b",
            "ümlaut",
            "x y",
            "http",
            "tcp-5432",
            "abc-",
            "123",
            "a1-b2",
            "a_b.c-D",
            "example.com",
            "*.example.com",
            "Example.COM",
            "a/b",
            "__",
            "s-1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for n in [14, 15, 16, 62, 63, 64, 100, 252, 253, 254, 300] {
            v.push(long(n));
            v.push(format!("{}_x", long(n)));
            v.push(format!("9{}", long(n)));
        }
        v
    }

    #[test]
    fn validators_agree_with_apiserver_regexes() {
        let (l, sd, l35) = (re(DNS1123_LABEL), re(DNS1123_SUBDOMAIN), re(DNS1035_LABEL));
        let (ic, il) = (re(IANA_CHARS), re(IANA_LETTER));
        for s in samples() {
            assert_eq!(
                is_valid_dns1123_label(&s),
                s.len() <= 63 && l.is_match(&s),
                "{s:?}"
            );
            assert_eq!(
                is_valid_dns1123_subdomain(&s),
                s.len() <= 253 && sd.is_match(&s),
                "{s:?}"
            );
            assert_eq!(
                is_valid_dns1035_label(&s),
                s.len() <= 63 && l35.is_match(&s),
                "{s:?}"
            );
            let iana = s.len() <= 15
                && ic.is_match(&s)
                && il.is_match(&s)
                && !s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--");
            assert_eq!(is_valid_iana_svc_name(&s), iana, "{s:?}");
        }
    }

    #[test]
    fn sanitisers_always_produce_valid_names() {
        let (l, sd, l35) = (re(DNS1123_LABEL), re(DNS1123_SUBDOMAIN), re(DNS1035_LABEL));
        for s in samples() {
            let a = dns1123_label(&s);
            assert!(a.len() <= 63 && l.is_match(&a), "{s:?} -> {a:?}");
            let b = dns1123_subdomain(&s);
            assert!(b.len() <= 253 && sd.is_match(&b), "{s:?} -> {b:?}");
            let c = dns1035_label(&s);
            assert!(c.len() <= 63 && l35.is_match(&c), "{s:?} -> {c:?}");
            // Idempotent.
            assert_eq!(dns1123_label(&a), a);
            assert_eq!(dns1123_subdomain(&b), b);
            assert_eq!(dns1035_label(&c), c);
        }
    }

    #[test]
    fn label_table() {
        let h = |s: &str| short_hash(s);
        let cases: Vec<(String, String)> = vec![
            ("web".into(), "web".into()),
            ("my_app".into(), "my-app".into()),
            ("My_App".into(), "my-app".into()),
            ("my.app".into(), "my-app".into()),
            ("my__app".into(), "my-app".into()),
            ("a--b".into(), "a--b".into()), // valid: unchanged
            ("_web_".into(), "web".into()),
            ("x y".into(), "x-y".into()),
            ("ümlaut".into(), "mlaut".into()),
            ("1web".into(), "1web".into()),
            (long(63), long(63)),
            (long(64), format!("{}-{}", long(54), h(&long(64)))),
            (
                format!("{}_b", long(62)),
                format!("{}-{}", long(54), h(&format!("{}-b", long(62)))),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(dns1123_label(&input), want, "{input:?}");
        }
        assert_eq!(dns1123_label("___"), format!("x-{}", h("___")));
    }

    #[test]
    fn dns1035_table() {
        for (input, want) in [
            ("web", "web"),
            ("2048", "s-2048"),
            ("1_web", "s-1-web"),
            ("_1web", "s-1web"),
            ("Web", "web"),
            ("s-1", "s-1"),
        ] {
            assert_eq!(dns1035_label(input), want, "{input:?}");
        }
        let sixty_three_digits = "1".repeat(63);
        let got = dns1035_label(&sixty_three_digits);
        assert_eq!(got.len(), 63);
        assert!(got.starts_with("s-111"));
    }

    #[test]
    fn subdomain_table() {
        for (input, want) in [
            ("nginx.conf", "nginx.conf"),
            ("Nginx.Conf", "nginx.conf"),
            ("my_secret", "my-secret"),
            ("a..b", "a.b"),
            ("a.-b", "a.b"),
            ("a-.b", "a.b"),
            (".a.", "a"),
            ("a._b", "a.b"),
        ] {
            assert_eq!(dns1123_subdomain(input), want, "{input:?}");
        }
        let got = dns1123_subdomain(&format!("{}.x", long(260)));
        assert_eq!(got.len(), 253);
    }

    #[test]
    fn long_names_stay_distinct_and_deterministic() {
        let a = dns1123_label(&format!("{}-one", long(70)));
        let b = dns1123_label(&format!("{}-two", long(70)));
        assert_ne!(a, b);
        assert_eq!(a, dns1123_label(&format!("{}-one", long(70))));
        // Inputs that sanitise to the same string collide (reported by the caller).
        assert_eq!(
            dns1123_label(&format!("{}_one", long(70))),
            dns1123_label(&format!("{}.one", long(70)))
        );
    }

    #[test]
    fn iana_table() {
        for (input, ok) in [
            ("http", true),
            ("tcp-5432", true),
            ("udp-53", true),
            ("sctp-65535", true),
            ("abcdefghijklmno", true),
            ("abcdefghijklmnop", false),
            ("5432", false),
            ("-http", false),
            ("http-", false),
            ("ht--tp", false),
            ("HTTP", false),
            ("web_ui", false),
            ("", false),
            ("a", true),
        ] {
            assert_eq!(is_valid_iana_svc_name(input), ok, "{input:?}");
        }
    }

    #[test]
    fn qualified_name_and_env_tables() {
        let qn = re(QUALIFIED_NAME);
        for (input, ok) in [
            ("com.example.description", true),
            ("example.com/role", true),
            ("Example.com/role", false),
            ("/role", false),
            ("a/b/c", false),
            ("traefik.http.routers.web.rule", true),
            ("_x", false),
            ("x_", false),
            ("a", true),
            ("", false),
        ] {
            assert_eq!(is_valid_qualified_name(input), ok, "{input:?}");
            if !input.contains('/') {
                assert_eq!(qn.is_match(input) && input.len() <= 63, ok, "{input:?}");
            }
        }
        assert!(!is_valid_qualified_name(&long(64)));
        let env = re(ENV_VAR);
        for (input, ok) in [
            ("PATH", true),
            ("_X", true),
            ("a.b-c", true),
            ("1X", false),
            ("A=B", false),
            ("", false),
            ("A B", false),
        ] {
            assert_eq!(is_valid_env_var_name(input), ok, "{input:?}");
            assert_eq!(env.is_match(input), ok, "{input:?}");
        }
    }
}
