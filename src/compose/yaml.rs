//! YAML text -> spanned [`Node`] trees, built from `saphyr-parser`'s event stream (it
//! keeps the position of every event, which a serde deserializer would lose). This
//! module resolves what YAML itself defines: anchors and aliases (with a bound on
//! expansion), `<<` merge keys, core-schema scalars (as go-yaml v3 resolves them, which
//! is what Docker Compose uses), duplicate keys, and the compose tags `!reset` /
//! `!override`. It does no compose-specific interpretation.

use super::node::{Key, Node, Tag, Value};
use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use std::collections::{HashMap, HashSet};

/// Most nodes one file may expand to through aliases (a "billion laughs" guard).
pub const MAX_NODES: usize = 2_000_000;

/// Mappings with this many keys look duplicates up in an index instead of a scan.
const INDEX_FROM: usize = 16;

/// Parse every document of a file. An empty file yields no documents.
pub fn parse(text: &str, file: FileId) -> Result<Vec<Node>, Diagnostic> {
    let mut b = Builder {
        file,
        anchors: HashMap::new(),
        nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    loop {
        let (ev, _) = next(&mut parser, file)?;
        match ev {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let (ev, span) = next(&mut parser, file)?;
                let node = match ev {
                    Event::DocumentEnd => Node::null(b.span(span)),
                    ev => {
                        let n = b.node(&mut parser, ev, span)?;
                        let (end, _) = next(&mut parser, file)?;
                        debug_assert!(matches!(end, Event::DocumentEnd));
                        n
                    }
                };
                docs.push(node);
            }
            _ => {}
        }
    }
    Ok(docs)
}

fn next<'a>(
    p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
    file: FileId,
) -> Result<(Event<'a>, YSpan), Diagnostic> {
    match p.next_event() {
        Some(Ok(ev)) => Ok(ev),
        Some(Err(e)) => {
            let m = e.marker();
            let span = Span::new(file, m.line() as u32, m.col() as u32 + 1, 1);
            let mut info = e.info().to_string();
            let mut d = Diagnostic::error(format!("invalid YAML: {info}")).at(span);
            info.make_ascii_lowercase();
            if info.contains("tab") {
                d = d.help("YAML does not allow tabs for indentation; indent with spaces");
            } else {
                d = d.help("check the indentation and quoting around this position");
            }
            Err(d)
        }
        None => Ok((Event::StreamEnd, YSpan::default())),
    }
}

struct Builder {
    file: FileId,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl Builder {
    fn span(&self, s: YSpan) -> Span {
        let len = if s.end.line() == s.start.line() {
            s.len().max(1)
        } else {
            1
        };
        Span::new(
            self.file,
            s.start.line() as u32,
            s.start.col() as u32 + 1,
            len as u32,
        )
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), Diagnostic> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::error(format!(
                "document expands to more than {MAX_NODES} nodes through aliases"
            ))
            .at(span)
            .help("this looks like an alias bomb; expand anchors by hand or split the file"));
        }
        Ok(())
    }

    fn node<'a>(
        &mut self,
        p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        ev: Event<'a>,
        yspan: YSpan,
    ) -> Result<Node, Diagnostic> {
        let span = self.span(yspan);
        self.count(1, span)?;
        let (node, anchor) = match ev {
            Event::Alias(id) => {
                let n = self.anchors.get(&id).cloned().ok_or_else(|| {
                    Diagnostic::error("alias refers to an unknown anchor").at(span)
                })?;
                let size = size_of_tree(&n);
                self.count(size, span)?;
                let mut n = n;
                n.span = span;
                return Ok(n);
            }
            Event::Scalar(text, style, anchor, tag) => {
                let tagname = tag.as_ref().map(|t| (t.handle.as_str(), t.suffix.as_str()));
                let (value, ctag) = scalar(&text, style, tagname, span)?;
                let mut n = Node::new(value, span);
                n.tag = ctag;
                (n, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let (ev, s) = next(p, self.file)?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(p, ev, s)?);
                }
                let mut n = Node::new(Value::Seq(items), span);
                n.tag = compose_tag(tag.as_ref().map(|t| t.suffix.as_str()));
                (n, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let n = self.mapping(p, span, tag.as_ref().map(|t| t.suffix.as_str()))?;
                (n, anchor)
            }
            _ => {
                return Err(Diagnostic::error("unexpected YAML event").at(span));
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn mapping<'a>(
        &mut self,
        p: &mut Parser<'a, saphyr_parser::StrInput<'a>>,
        span: Span,
        tag: Option<&str>,
    ) -> Result<Node, Diagnostic> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        // Duplicate keys are found by scanning `entries`; a large mapping gets an index
        // (name -> position) instead, so thousands of services stay linear.
        let mut index: Option<HashMap<String, usize>> = None;
        let mut merges: Vec<Node> = Vec::new();
        loop {
            let (ev, ks) = next(p, self.file)?;
            if matches!(ev, Event::MappingEnd) {
                break;
            }
            let kspan = self.span(ks);
            let merge_key =
                matches!(&ev, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key = self.node(p, ev, ks)?;
            let (vev, vs) = next(p, self.file)?;
            let value = self.node(p, vev, vs)?;
            if merge_key {
                merges.push(value);
                continue;
            }
            let name = match key.value {
                Value::Str(s) => s,
                Value::Null => "null".to_string(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(Diagnostic::error("mapping keys must be scalars")
                        .at(kspan)
                        .help("compose files only use plain string keys"));
                }
                _ => key.scalar_string().unwrap_or_default(),
            };
            let dup = match &index {
                Some(ix) => ix.get(&name).copied(),
                None => entries.iter().position(|(k, _)| k.name == name),
            };
            if let Some(i) = dup {
                let first = entries[i].0.span;
                return Err(Diagnostic::error(format!(
                    "mapping key \"{name}\" already defined at line {}",
                    first.line
                ))
                .at(kspan)
                .note(first, "first defined here")
                .help("YAML mappings cannot repeat a key; remove one of them"));
            }
            match &mut index {
                Some(ix) => {
                    ix.insert(name.clone(), entries.len());
                }
                None if entries.len() >= INDEX_FROM => {
                    let mut ix = HashMap::with_capacity(entries.len() * 2);
                    for (i, (k, _)) in entries.iter().enumerate() {
                        ix.insert(k.name.clone(), i);
                    }
                    ix.insert(name.clone(), entries.len());
                    index = Some(ix);
                }
                None => {}
            }
            entries.push((Key { name, span: kspan }, value));
        }
        // `<<` merge keys: explicit keys win, then earlier merge sources win.
        if !merges.is_empty() {
            let mut have: HashSet<String> = entries.iter().map(|(k, _)| k.name.clone()).collect();
            for m in merges {
                let sources: Vec<Node> = match m.value {
                    Value::Map(_) => vec![m],
                    Value::Seq(items) => items,
                    _ => {
                        return Err(Diagnostic::error(
                            "merge key `<<` needs a mapping or a list of mappings",
                        )
                        .at(m.span));
                    }
                };
                for src in sources {
                    let sspan = src.span;
                    let Value::Map(sentries) = src.value else {
                        return Err(Diagnostic::error(
                            "merge key `<<` needs a mapping or a list of mappings",
                        )
                        .at(sspan));
                    };
                    for (k, v) in sentries {
                        if have.insert(k.name.clone()) {
                            entries.push((k, v));
                        }
                    }
                }
            }
        }
        let mut n = Node::map(entries, span);
        n.tag = compose_tag(tag);
        Ok(n)
    }
}

fn size_of_tree(n: &Node) -> usize {
    match &n.value {
        Value::Seq(s) => 1 + s.iter().map(size_of_tree).sum::<usize>(),
        Value::Map(m) => 1 + m.iter().map(|(_, v)| 1 + size_of_tree(v)).sum::<usize>(),
        _ => 1,
    }
}

fn compose_tag(suffix: Option<&str>) -> Tag {
    match suffix {
        Some("reset") => Tag::Reset,
        Some("override") => Tag::Override,
        _ => Tag::None,
    }
}

/// Resolve a scalar like go-yaml v3 does for an untyped target.
fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<(&str, &str)>,
    span: Span,
) -> Result<(Value, Tag), Diagnostic> {
    if let Some((handle, suffix)) = tag {
        if handle == "!!" || handle == "tag:yaml.org,2002:" {
            let v = match suffix {
                "str" => Value::Str(text.to_string()),
                "null" => Value::Null,
                "bool" => match resolve_plain(text) {
                    v @ Value::Bool(_) => v,
                    _ => return Err(bad_tag(text, suffix, span)),
                },
                "int" => match resolve_plain(text) {
                    v @ Value::Int(_) => v,
                    _ => return Err(bad_tag(text, suffix, span)),
                },
                "float" => match resolve_plain(text) {
                    Value::Int(i) => Value::Float(i as f64),
                    v @ Value::Float(_) => v,
                    _ => return Err(bad_tag(text, suffix, span)),
                },
                _ => Value::Str(text.to_string()),
            };
            return Ok((v, Tag::None));
        }
        let ctag = compose_tag(Some(suffix));
        let v = if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::Str(text.to_string())
        };
        return Ok((v, ctag));
    }
    if style != ScalarStyle::Plain {
        return Ok((Value::Str(text.to_string()), Tag::None));
    }
    Ok((resolve_plain(text), Tag::None))
}

fn bad_tag(text: &str, tag: &str, span: Span) -> Diagnostic {
    Diagnostic::error(format!("cannot decode `{text}` as !!{tag}")).at(span)
}

/// go-yaml v3 `resolve` for plain scalars.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::Str(s.to_string());
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = go_parse_int(&plain) {
        return Value::Int(i);
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            return Value::Float(f);
        }
    }
    for (prefix, neg) in [("0b", false), ("-0b", true), ("+0b", false)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            if let Ok(i) = i64::from_str_radix(rest, 2) {
                return Value::Int(if neg { -i } else { i });
            }
        }
    }
    for (prefix, neg) in [("0o", false), ("-0o", true), ("+0o", false)] {
        if let Some(rest) = plain.strip_prefix(prefix) {
            if let Ok(i) = i64::from_str_radix(rest, 8) {
                return Value::Int(if neg { -i } else { i });
            }
        }
    }
    Value::Str(s.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, then `0x`, `0o`, `0b`, leading-`0`
/// octal, or decimal.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) = if let Some(r) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, r)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i128::from_str_radix(digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == fs {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        parse(text, FileId(0)).expect("parses").remove(0)
    }

    #[test]
    fn scalars_resolve_like_go_yaml_v3() {
        for (s, want) in [
            ("1", Value::Int(1)),
            ("0x1F", Value::Int(31)),
            ("0o17", Value::Int(15)),
            ("1_000", Value::Int(1000)),
            ("1.5", Value::Float(1.5)),
            ("1e3", Value::Float(1000.0)),
            ("yes", Value::Str("yes".into())),
            ("true", Value::Bool(true)),
            ("~", Value::Null),
            ("12:30", Value::Str("12:30".into())),
            ("-", Value::Str("-".into())),
        ] {
            assert_eq!(resolve_plain(s), want, "{s}");
        }
    }

    #[test]
    fn merge_keys_and_anchors() {
        let n = one("x: &a {p: 1, q: 2}\ny:\n  <<: *a\n  q: 3\n");
        let y = n.get("y").expect("y");
        assert_eq!(y.get("p").map(|n| &n.value), Some(&Value::Int(1)));
        assert_eq!(y.get("q").map(|n| &n.value), Some(&Value::Int(3)));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse("a: 1\na: 2\n", FileId(0)).unwrap_err();
        assert_eq!(e.span.map(|s| (s.line, s.col)), Some((2, 1)));
    }

    #[test]
    fn spans_are_one_based() {
        let n = one("services:\n  web:\n    image: nginx\n");
        let img = n.pointer(&["services", "web", "image"]).expect("image");
        assert_eq!((img.span.line, img.span.col, img.span.len), (3, 12, 5));
    }

    #[test]
    fn tags() {
        let n = one("a: !reset []\nb: !override {x: 1}\nc: !!str 12\n");
        assert_eq!(n.get("a").map(|n| n.tag), Some(Tag::Reset));
        assert_eq!(n.get("b").map(|n| n.tag), Some(Tag::Override));
        assert_eq!(n.get("c").map(|n| &n.value), Some(&Value::Str("12".into())));
    }
}
