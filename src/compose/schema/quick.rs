//! A quick answer to "is this tree valid against the compose schema?" that needs no
//! compiled validator: it walks the schema JSON directly (compiling it with
//! `jsonschema` costs ~5 ms, more than a whole 10-service build). It understands only
//! the keywords and patterns the compose schema uses, and answers [`Verdict::Unknown`]
//! for anything else. It never reports problems: on anything but `Valid` the caller
//! runs the real validator, which stays the only source of diagnostics. Pure.
//!
//! Soundness is what matters: `Valid` must imply that `jsonschema` finds no error.
//! Every `Invalid` is therefore exact too (a wrong `Invalid` inside `oneOf` could turn
//! a branch count of two into one), and whatever is not decided exactly is `Unknown`:
//! floats against `integer`, `minimum` or `uniqueItems`, non-string `enum`s, patterns
//! other than the few spelled out below, and text containing line separators other
//! than `\n` (whose treatment by `.` depends on the regex dialect).

use serde_json::{Map, Value as Json};
use std::collections::HashSet;

/// Three-valued validity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    Invalid,
    Unknown,
}

use Verdict::{Invalid, Unknown, Valid};

impl Verdict {
    /// Both must hold: any `Invalid` decides, then any `Unknown`.
    fn and(self, other: Verdict) -> Verdict {
        match (self, other) {
            (Invalid, _) | (_, Invalid) => Invalid,
            (Unknown, _) | (_, Unknown) => Unknown,
            _ => Valid,
        }
    }

    fn from_bool(ok: bool) -> Verdict {
        if ok {
            Valid
        } else {
            Invalid
        }
    }
}

/// Check `instance` against the whole `schema` document (its root).
pub fn check(schema: &Json, instance: &Json) -> Verdict {
    Checker {
        root: schema,
        depth: 0,
    }
    .check(schema, instance)
}

struct Checker<'s> {
    root: &'s Json,
    depth: usize,
}

/// Deeper than this (a `$ref` cycle or a very deep document) is left to the validator.
const MAX_DEPTH: usize = 128;

/// Keywords without effect on validity.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$defs",
    "definitions",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
];

impl<'s> Checker<'s> {
    fn check(&mut self, schema: &'s Json, inst: &Json) -> Verdict {
        let obj = match schema {
            Json::Bool(b) => return Verdict::from_bool(*b),
            Json::Object(o) => o,
            _ => return Unknown,
        };
        if self.depth > MAX_DEPTH {
            return Unknown;
        }
        self.depth += 1;
        let v = self.keywords(obj, inst);
        self.depth -= 1;
        v
    }

    fn keywords(&mut self, obj: &'s Map<String, Json>, inst: &Json) -> Verdict {
        let mut v = Valid;
        let mut object_done = false;
        for (kw, val) in obj {
            let r = match kw.as_str() {
                "type" => type_ok(val, inst),
                "$ref" => match self.resolve(val) {
                    Some(target) => self.check(target, inst),
                    None => Unknown,
                },
                "properties" | "patternProperties" | "additionalProperties" => {
                    if object_done {
                        continue;
                    }
                    object_done = true;
                    match inst {
                        Json::Object(m) => self.object(obj, m),
                        _ => Valid,
                    }
                }
                "required" => match (inst, val) {
                    (Json::Object(m), Json::Array(names)) => {
                        let mut r = Valid;
                        for n in names {
                            r = r.and(match n {
                                Json::String(n) => Verdict::from_bool(m.contains_key(n)),
                                _ => Unknown,
                            });
                        }
                        r
                    }
                    (Json::Object(_), _) => Unknown,
                    _ => Valid,
                },
                "items" => match inst {
                    Json::Array(items) => {
                        let mut r = Valid;
                        for item in items {
                            r = r.and(self.check(val, item));
                            if r == Invalid {
                                break;
                            }
                        }
                        r
                    }
                    _ => Valid,
                },
                "uniqueItems" => match (inst, val) {
                    (Json::Array(items), Json::Bool(true)) => unique(items),
                    (_, Json::Bool(_)) => Valid,
                    _ => Unknown,
                },
                "oneOf" => match val {
                    Json::Array(branches) => self.one_of(branches, inst),
                    _ => Unknown,
                },
                "enum" => enum_ok(val, inst),
                "minimum" | "maximum" => bound_ok(kw == "minimum", val, inst),
                "pattern" => match (inst, val) {
                    (Json::String(s), Json::String(p)) => pattern_search(p, s),
                    (_, Json::String(_)) => Valid,
                    _ => Unknown,
                },
                k if ANNOTATIONS.contains(&k) => Valid,
                _ => Unknown,
            };
            v = v.and(r);
            if v == Invalid {
                return Invalid;
            }
        }
        v
    }

    /// `properties`, `patternProperties` and `additionalProperties` of one schema.
    fn object(&mut self, obj: &'s Map<String, Json>, m: &Map<String, Json>) -> Verdict {
        let props = match obj.get("properties") {
            None => None,
            Some(Json::Object(p)) => Some(p),
            Some(_) => return Unknown,
        };
        let patterns = match obj.get("patternProperties") {
            None => None,
            Some(Json::Object(p)) => Some(p),
            Some(_) => return Unknown,
        };
        let additional = obj.get("additionalProperties");
        let mut v = Valid;
        for (key, value) in m {
            let mut matched = false;
            if let Some(sub) = props.and_then(|p| p.get(key)) {
                matched = true;
                v = v.and(self.check(sub, value));
            }
            for (pattern, sub) in patterns.into_iter().flatten() {
                match pattern_search(pattern, key) {
                    Valid => {
                        matched = true;
                        v = v.and(self.check(sub, value));
                    }
                    Invalid => {}
                    Unknown => return Unknown,
                }
            }
            if !matched {
                if let Some(sub) = additional {
                    v = v.and(self.check(sub, value));
                }
            }
            if v == Invalid {
                return Invalid;
            }
        }
        v
    }

    fn one_of(&mut self, branches: &'s [Json], inst: &Json) -> Verdict {
        let mut valid = 0;
        let mut unknown = false;
        for b in branches {
            match self.check(b, inst) {
                Valid => valid += 1,
                Invalid => {}
                Unknown => unknown = true,
            }
            if valid > 1 {
                return Invalid;
            }
        }
        if unknown {
            Unknown
        } else {
            Verdict::from_bool(valid == 1)
        }
    }

    /// A local `$ref` (`#/$defs/name`, any JSON pointer into the document).
    fn resolve(&self, r: &Json) -> Option<&'s Json> {
        let pointer = r.as_str()?.strip_prefix('#')?;
        if pointer.contains('~') || pointer.contains('%') {
            return None; // escaped segments: not in the compose schema
        }
        self.root.pointer(pointer)
    }
}

fn type_ok(t: &Json, inst: &Json) -> Verdict {
    match t {
        Json::String(name) => type_is(name, inst),
        Json::Array(names) => {
            let mut r = Invalid;
            for n in names {
                let one = match n {
                    Json::String(n) => type_is(n, inst),
                    _ => Unknown,
                };
                match one {
                    Valid => return Valid,
                    Unknown => r = Unknown,
                    Invalid => {}
                }
            }
            r
        }
        _ => Unknown,
    }
}

fn type_is(name: &str, inst: &Json) -> Verdict {
    match (name, inst) {
        ("string", Json::String(_))
        | ("object", Json::Object(_))
        | ("array", Json::Array(_))
        | ("boolean", Json::Bool(_))
        | ("null", Json::Null)
        | ("number", Json::Number(_)) => Valid,
        // A float with no fractional part may count as an integer: not decided here.
        ("integer", Json::Number(n)) => {
            if n.is_i64() || n.is_u64() {
                Valid
            } else {
                Unknown
            }
        }
        ("string" | "object" | "array" | "boolean" | "null" | "number" | "integer", _) => Invalid,
        _ => Unknown,
    }
}

/// `uniqueItems: true`, decided for strings and integers only.
fn unique(items: &[Json]) -> Verdict {
    if items.len() < 2 {
        return Valid;
    }
    let mut strings: HashSet<&str> = HashSet::with_capacity(items.len());
    let mut ints: HashSet<i64> = HashSet::new();
    for item in items {
        let fresh = match item {
            Json::String(s) => strings.insert(s.as_str()),
            Json::Number(n) => match n.as_i64() {
                Some(i) => ints.insert(i),
                None => return Unknown,
            },
            _ => return Unknown,
        };
        if !fresh {
            return Invalid;
        }
    }
    Valid
}

/// `enum` of strings (what the compose schema has); others are not decided.
fn enum_ok(options: &Json, inst: &Json) -> Verdict {
    let Json::Array(options) = options else {
        return Unknown;
    };
    if !options.iter().all(Json::is_string) {
        return Unknown;
    }
    match inst {
        Json::String(s) => Verdict::from_bool(options.iter().any(|o| o.as_str() == Some(s))),
        _ => Invalid,
    }
}

/// `minimum` / `maximum` with integer bounds against integer instances.
fn bound_ok(minimum: bool, bound: &Json, inst: &Json) -> Verdict {
    let Json::Number(n) = inst else {
        return Valid; // only numbers are bounded
    };
    let (Some(x), Some(b)) = (n.as_i64(), bound.as_i64()) else {
        return Unknown;
    };
    Verdict::from_bool(if minimum { x >= b } else { x <= b })
}

/// Does `pattern` match somewhere in `s` (JSON Schema patterns are unanchored)? Only
/// the patterns of the compose schema are known.
fn pattern_search(pattern: &str, s: &str) -> Verdict {
    // `.` and `$` around line separators differ between regex dialects.
    if s.contains(['\r', '\u{2028}', '\u{2029}']) {
        return Unknown;
    }
    let b = s.as_bytes();
    let ok = match pattern {
        "^x-" => s.starts_with("x-"),
        "^.+$" => !s.is_empty() && !s.contains('\n'),
        ".+" => b.iter().any(|&c| c != b'\n'),
        "^[a-z]+$" => !b.is_empty() && b.iter().all(u8::is_ascii_lowercase),
        "^[a-zA-Z0-9._-]+$" => {
            !b.is_empty()
                && b.iter()
                    .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        }
        "[a-zA-Z0-9][a-zA-Z0-9_.-]+" => b.windows(2).any(|w| {
            w[0].is_ascii_alphanumeric()
                && (w[1].is_ascii_alphanumeric() || matches!(w[1], b'_' | b'.' | b'-'))
        }),
        "always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+" => {
            [
                "always",
                "never",
                "build",
                "if_not_present",
                "missing",
                "refresh",
                "daily",
                "weekly",
            ]
            .iter()
            .any(|w| s.contains(w))
                || s.match_indices("every_").any(|(i, _)| {
                    let rest = &b[i + "every_".len()..];
                    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                    digits > 0 && matches!(rest.get(digits), Some(b'w' | b'd' | b'h' | b'm' | b's'))
                })
        }
        _ => return Unknown,
    };
    Verdict::from_bool(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_table() {
        let cases: &[(&str, &str, Verdict)] = &[
            ("^x-", "x-foo", Valid),
            ("^x-", "ax-foo", Invalid),
            ("^.+$", "a", Valid),
            ("^.+$", "", Invalid),
            ("^.+$", "a\nb", Invalid),
            ("^.+$", "a\rb", Unknown),
            (".+", "\n", Invalid),
            (".+", "\na", Valid),
            ("^[a-z]+$", "abc", Valid),
            ("^[a-z]+$", "aBc", Invalid),
            ("^[a-zA-Z0-9._-]+$", "web_1.a-B", Valid),
            ("^[a-zA-Z0-9._-]+$", "web 1", Invalid),
            ("[a-zA-Z0-9][a-zA-Z0-9_.-]+", "a", Invalid),
            ("[a-zA-Z0-9][a-zA-Z0-9_.-]+", "-ab", Valid),
            ("[a-zA-Z0-9][a-zA-Z0-9_.-]+", "a b", Invalid),
            ("[a-zA-Z0-9][a-zA-Z0-9_.-]+", "/my_c", Valid),
            ("always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+", "always", Valid),
            ("always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+", "every_12h", Valid),
            ("always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+", "every_h", Invalid),
            ("always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+", "every_12", Invalid),
            ("always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+", "sometimes", Invalid),
            ("^[0-9]+$", "1", Unknown),
        ];
        for (p, s, want) in cases {
            assert_eq!(pattern_search(p, s), *want, "{p} ~ {s:?}");
        }
    }

    #[test]
    fn keywords_table() {
        let cases = [
            (json!({"type": "integer"}), json!(1), Valid),
            (json!({"type": "integer"}), json!(1.0), Unknown),
            (json!({"type": "integer"}), json!("1"), Invalid),
            (json!({"type": ["string", "null"]}), json!(null), Valid),
            (json!({"type": ["string", "integer"]}), json!(1.5), Unknown),
            (json!({"type": ["string", "boolean"]}), json!(1), Invalid),
            (json!({"enum": ["a", "b"]}), json!("b"), Valid),
            (json!({"enum": ["a", "b"]}), json!("c"), Invalid),
            (json!({"enum": ["a", "b"]}), json!(1), Invalid),
            (json!({"enum": [1]}), json!(1), Unknown),
            (json!({"minimum": 0}), json!(-1), Invalid),
            (json!({"minimum": 0}), json!("x"), Valid),
            (json!({"maximum": 100}), json!(50.5), Unknown),
            (
                json!({"uniqueItems": true}),
                json!(["a", "b", "a"]),
                Invalid,
            ),
            (json!({"uniqueItems": true}), json!([1, "1"]), Valid),
            (json!({"uniqueItems": true}), json!([{}, {}]), Unknown),
            (json!({"required": ["a"]}), json!({"b": 1}), Invalid),
            (
                json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
                json!(1),
                Valid,
            ),
            (
                json!({"oneOf": [{"type": "string"}, {}]}),
                json!("x"),
                Invalid,
            ),
            (
                json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
                json!(1.0),
                Unknown,
            ),
            (json!({"not": {}}), json!(1), Unknown),
            (
                json!({"additionalProperties": false, "patternProperties": {"^x-": {}}}),
                json!({"x-a": 1}),
                Valid,
            ),
            (
                json!({"additionalProperties": false, "properties": {"a": {}}}),
                json!({"b": 1}),
                Invalid,
            ),
            (
                json!({"properties": {"a": {"type": "string"}}}),
                json!({"a": 1}),
                Invalid,
            ),
            (
                json!({"patternProperties": {"^[0-9]+$": {}}}),
                json!({"1": 1}),
                Unknown,
            ),
            (
                json!({"$ref": "#/$defs/s", "$defs": {"s": {"type": "string"}}}),
                json!(1),
                Invalid,
            ),
            (json!({"$ref": "#/$defs/missing"}), json!(1), Unknown),
            (json!(false), json!(1), Invalid),
        ];
        for (schema, inst, want) in cases {
            assert_eq!(check(&schema, &inst), want, "{schema} / {inst}");
        }
    }

    /// Compose files of the repository's fixtures and the shared corpus.
    fn compose_files() -> Vec<std::path::PathBuf> {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("fixtures")];
        for c in [root.join("../shared"), root.join("../../shared")] {
            if c.is_dir() {
                dirs.push(c.join("corpus"));
                break;
            }
        }
        let mut out = Vec::new();
        while let Some(d) = dirs.pop() {
            let Ok(rd) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    /// Every path to a value of `v` (object keys and array indices).
    fn paths(v: &Json, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Json::Object(m) => {
                for (k, c) in m {
                    at.push(k.clone());
                    paths(c, at, out);
                    at.pop();
                }
            }
            Json::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(c, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn at_mut<'a>(v: &'a mut Json, path: &[String]) -> Option<&'a mut Json> {
        let mut cur = v;
        for seg in path {
            cur = match cur {
                Json::Object(m) => m.get_mut(seg)?,
                Json::Array(a) => a.get_mut(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The quick check never contradicts `jsonschema`: on every compose file of the
    /// fixtures and the corpus, and on thousands of variants of them (a value replaced
    /// by another type or an edge value, an unknown or `x-` key added, a key removed).
    #[test]
    fn agrees_with_jsonschema() {
        let schema = super::super::schema_json().unwrap();
        let validator = super::super::validator().unwrap();
        let replacements = [
            json!(1),
            json!(-5),
            json!(2000),
            json!(1.5),
            json!(2.0),
            json!("x"),
            json!(""),
            json!("a b"),
            json!("every_5m"),
            json!("x\ny"),
            json!(true),
            json!(null),
            json!([]),
            json!({}),
            json!(["a", "a"]),
            json!([1, 1]),
            json!({"k": "v"}),
        ];
        let (mut files, mut checked, mut valid_files, mut quick_valid) = (0, 0, 0, 0);
        for path in compose_files() {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(mut docs) = crate::compose::yaml::parse(&text, crate::source::FileId(0)) else {
                continue;
            };
            if docs.is_empty() {
                continue;
            }
            let original = docs.remove(0).to_json();
            files += 1;
            let mut all = Vec::new();
            paths(&original, &mut Vec::new(), &mut all);
            let mut variants = vec![original.clone()];
            // A deterministic spread of variants over the file.
            let step = (all.len() * replacements.len() / 400).max(1);
            let mut n = 0usize;
            for p in &all {
                for r in &replacements {
                    n += 1;
                    if n % step != 0 {
                        continue;
                    }
                    let mut v = original.clone();
                    if let Some(slot) = at_mut(&mut v, p) {
                        *slot = r.clone();
                        variants.push(v);
                    }
                }
                for (k, add) in [("bogus", true), ("x-ok", true), ("", false)] {
                    let mut v = original.clone();
                    match (at_mut(&mut v, p), add) {
                        (Some(Json::Object(m)), true) => {
                            m.insert(k.to_string(), json!(1));
                        }
                        (Some(Json::Object(m)), false) => {
                            let first = m.keys().next().cloned();
                            if let Some(f) = first {
                                m.shift_remove(&f);
                            }
                        }
                        _ => continue,
                    }
                    variants.push(v);
                }
            }
            for (i, v) in variants.iter().enumerate() {
                let real = validator.is_valid(v);
                let quick = check(schema, v);
                checked += 1;
                if i == 0 {
                    valid_files += usize::from(real);
                    quick_valid += usize::from(quick == Valid);
                }
                match quick {
                    Valid => assert!(real, "{}: variant {i} is invalid\n{v}", path.display()),
                    Invalid => assert!(!real, "{}: variant {i} is valid\n{v}", path.display()),
                    Unknown => {}
                }
            }
        }
        assert!(
            files > 100 && checked > 10_000,
            "{files} files, {checked} trees"
        );
        // The point of the quick check: valid files rarely need the validator.
        assert!(
            quick_valid * 10 >= valid_files * 9,
            "{quick_valid} of {valid_files} valid files proven valid"
        );
    }
}
