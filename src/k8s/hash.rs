//! kustomize's content hash for `configMapGenerator` / `secretGenerator` name suffixes
//! (`app-config-5bchkh655g`), bit-for-bit what `kubectl kustomize` computes
//! (sigs.k8s.io/kustomize api/hasher). Pure functions over the object's data; this
//! module never builds the object or decides when a suffix is wanted.
//!
//! The algorithm: build a JSON object with the keys that matter, encode it the way Go's
//! `encoding/json.Marshal` does (map keys sorted bytewise, no whitespace, `<` `>` `&`
//! U+2028 U+2029 escaped as `\u003c` etc., control characters as `\b \f \n \r \t` or
//! `\u00XX`), take the hex SHA-256, keep its first 10 hex digits and replace
//! `0 1 3 a e` by `g h k m t`.
//! The object is `{"binaryData":{..}?,"data":{..}|"","kind":"ConfigMap","name":""}`
//! or `{"data":{..},"kind":"Secret","name":"","type":T}`. kustomize's generators leave
//! `data` out of an empty ConfigMap (it then hashes as `""`) but write `data: {}` into
//! an empty Secret (hashed as `{}`); `binaryData` is left out when empty. `name` is always empty:
//! the hasher asks for the field `"metadata/name"` and, as observed with kubectl's
//! kustomize v5.5.0, gets nothing back, so two generators with equal data get equal
//! suffixes (`one-h29d89cmmt`, `two-h29d89cmmt`) and `namePrefix` does not matter.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Name suffix kustomize gives a generated ConfigMap with these `data` (UTF-8 values)
/// and `binaryData` (base64 values) maps.
pub fn configmap_hash(
    data: &BTreeMap<String, String>,
    binary_data: &BTreeMap<String, String>,
) -> String {
    let mut enc = String::with_capacity(64 + approx_len(data) + approx_len(binary_data));
    enc.push('{');
    if !binary_data.is_empty() {
        enc.push_str("\"binaryData\":");
        push_map(&mut enc, binary_data);
        enc.push(',');
    }
    enc.push_str("\"data\":");
    push_configmap_data(&mut enc, data);
    enc.push_str(",\"kind\":\"ConfigMap\",\"name\":\"\"}");
    encode(&enc)
}

/// Name suffix kustomize gives a generated Secret of type `type_` (e.g. `Opaque`)
/// whose `data` map holds these base64 values.
pub fn secret_hash(type_: &str, data: &BTreeMap<String, String>) -> String {
    let mut enc = String::with_capacity(64 + type_.len() + approx_len(data));
    enc.push_str("{\"data\":");
    push_map(&mut enc, data);
    enc.push_str(",\"kind\":\"Secret\",\"name\":\"\",\"type\":");
    push_go_json_str(&mut enc, type_);
    enc.push('}');
    encode(&enc)
}

fn approx_len(m: &BTreeMap<String, String>) -> usize {
    m.iter().map(|(k, v)| k.len() + v.len() + 6).sum()
}

fn push_configmap_data(out: &mut String, data: &BTreeMap<String, String>) {
    if data.is_empty() {
        out.push_str("\"\"");
    } else {
        push_map(out, data);
    }
}

/// A JSON object from a `BTreeMap`: its iteration order (bytewise on UTF-8) is the
/// order Go's `json.Marshal` sorts `map[string]` keys in.
fn push_map(out: &mut String, m: &BTreeMap<String, String>) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_go_json_str(out, k);
        out.push(':');
        push_go_json_str(out, v);
    }
    out.push('}');
}

/// A JSON string escaped exactly like Go's `encoding/json` (HTML-safe mode, Go ≥ 1.22).
fn push_go_json_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                let n = c as u32;
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[((n >> shift) & 0xF) as usize]));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// First 10 hex digits of the SHA-256 of `encoded`, with kustomize's substitutions.
fn encode(encoded: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(encoded.as_bytes());
    let mut out = String::with_capacity(10);
    for byte in digest.iter().take(5) {
        for nibble in [byte >> 4, byte & 0xF] {
            out.push(match HEX[usize::from(nibble)] {
                b'0' => 'g',
                b'1' => 'h',
                b'3' => 'k',
                b'a' => 'm',
                b'e' => 't',
                other => char::from(other),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type Pairs<'a> = &'a [(&'a str, &'a str)];

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Expected values from kustomize's api/hasher/hasher_test.go (string-valued
    /// cases with data present) and from running `kubectl kustomize` (kustomize v5.5.0).
    #[test]
    fn configmap_table() {
        type Case<'a> = (Pairs<'a>, Pairs<'a>, &'a str);
        let cases: &[Case] = &[
            (&[], &[], "6ct58987ht"),
            (&[("one", "")], &[], "9g67k2htb6"),
            (&[], &[("one", "")], "6mtk2m274t"),
            (&[("one", "")], &[("two", "")], "698h7c7t9m"),
            (&[("a", "1"), ("b", "héllo <&> ☃")], &[], "9mkdff2hhh"),
            (
                &[
                    ("c", "t\tb\u{2028}\u{2029}\"\\/é😀"),
                    ("m", "line1\nline2\n"),
                ],
                &[],
                "5bchkh655g",
            ),
            (&[], &[("bin.dat", "Ymlu//4AZGF0YQ==")], "mh28hc6f5c"),
        ];
        for (data, bin, want) in cases {
            assert_eq!(configmap_hash(&m(data), &m(bin)), *want, "{data:?} {bin:?}");
        }
    }

    #[test]
    fn secret_table() {
        type Case<'a> = (&'a str, Pairs<'a>, &'a str);
        let cases: &[Case] = &[
            ("Opaque", &[], "46f8b28mk5"),
            ("my-type", &[("one", "")], "74bd68bm66"),
            ("Opaque", &[("pw", "c2VjcmV0")], "dtgd52765c"),
            (
                "kubernetes.io/tls",
                &[("tls.crt", "eA=="), ("tls.key", "eQ==")],
                "f4c6k54dt5",
            ),
        ];
        for (ty, data, want) in cases {
            assert_eq!(secret_hash(ty, &m(data)), *want, "{ty} {data:?}");
        }
    }

    #[test]
    fn go_json_escaping() {
        let mut s = String::new();
        push_go_json_str(
            &mut s,
            "<a&b>\u{0}\u{1f}\u{8}\u{c}\n\r\t\"\\\u{7f}\u{2028}é",
        );
        assert_eq!(
            s,
            r#""\u003ca\u0026b\u003e\u0000\u001f\b\f\n\r\t\"\\"#.to_owned() + "\u{7f}\\u2028é\""
        );
    }
}
