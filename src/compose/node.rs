//! The spanned YAML tree every front-end stage works on: a [`Node`] is a value plus
//! the [`Span`] it came from and the compose merge tag (`!reset` / `!override`) it
//! carried. Maps keep their source order and key spans. Conversions to and from
//! `serde_json::Value` serve the schema check, typed deserialisation and tests.

use crate::source::Span;
use serde_json::Value as Json;

/// Compose's YAML merge tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tag {
    #[default]
    None,
    Reset,
    Override,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Node {
    pub value: Value,
    pub span: Span,
    pub tag: Tag,
}

impl Node {
    pub fn new(value: Value, span: Span) -> Self {
        Node {
            value,
            span,
            tag: Tag::None,
        }
    }

    pub fn null(span: Span) -> Self {
        Node::new(Value::Null, span)
    }

    pub fn str(s: impl Into<String>, span: Span) -> Self {
        Node::new(Value::Str(s.into()), span)
    }

    pub fn map(entries: Vec<(Key, Node)>, span: Span) -> Self {
        Node::new(Value::Map(entries), span)
    }

    pub fn as_map(&self) -> Option<&Vec<(Key, Node)>> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Key, Node)>> {
        match &mut self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&Vec<Node>> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Value of `key` in a map node (first match).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }

    /// The key entry (with its span) of `key` in a map node.
    pub fn get_entry(&self, key: &str) -> Option<&(Key, Node)> {
        self.as_map()?.iter().find(|(k, _)| k.name == key)
    }

    /// Remove `key` from a map node, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let m = self.as_map_mut()?;
        let i = m.iter().position(|(k, _)| k.name == key)?;
        Some(m.remove(i).1)
    }

    /// Set `key` (replacing in place, or appending).
    pub fn set(&mut self, key: &str, value: Node) {
        if let Some(m) = self.as_map_mut() {
            if let Some(slot) = m.iter_mut().find(|(k, _)| k.name == key) {
                slot.1 = value;
            } else {
                let span = value.span;
                m.push((
                    Key {
                        name: key.to_string(),
                        span,
                    },
                    value,
                ));
            }
        }
    }

    /// Follow a path of map keys / sequence indices (`["services", "web", "ports", "0"]`).
    pub fn pointer<'a, S: AsRef<str>>(&'a self, path: &[S]) -> Option<&'a Node> {
        let mut cur = self;
        for seg in path {
            let seg = seg.as_ref();
            cur = match &cur.value {
                Value::Map(_) => cur.get(seg)?,
                Value::Seq(s) => s.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Like [`Node::pointer`] but returns the span of the deepest node reached, and for a
    /// map entry the span of its key (more useful for "unknown key" messages).
    pub fn span_at<S: AsRef<str>>(&self, path: &[S]) -> Span {
        self.span_below(self.span, path)
    }

    /// [`Node::span_at`] with `span` standing for this node's own span (e.g. the key
    /// span of the map entry it is the value of).
    pub fn span_below<S: AsRef<str>>(&self, span: Span, path: &[S]) -> Span {
        let mut cur = self;
        let mut span = span;
        for seg in path {
            let seg = seg.as_ref();
            match &cur.value {
                Value::Map(m) => match m.iter().find(|(k, _)| k.name == seg) {
                    Some((k, v)) => {
                        span = k.span;
                        cur = v;
                    }
                    None => return span,
                },
                Value::Seq(s) => match seg.parse::<usize>().ok().and_then(|i| s.get(i)) {
                    Some(v) => {
                        span = v.span;
                        cur = v;
                    }
                    None => return span,
                },
                _ => return span,
            }
        }
        span
    }

    /// Scalar rendered as compose-go formats it with `%v` (used when a mapping is turned
    /// into `KEY=VALUE` strings). `None` for null and collections.
    pub fn scalar_string(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(go_float(*f)),
            _ => None,
        }
    }

    pub fn to_json(&self) -> Json {
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or_else(|| Json::String(go_float(*f))),
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(s) => Json::Array(s.iter().map(Node::to_json).collect()),
            Value::Map(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Build a tree from JSON, every node carrying `span`.
    pub fn from_json(j: &Json, span: Span) -> Node {
        let value = match j {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            Json::String(s) => Value::Str(s.clone()),
            Json::Array(a) => Value::Seq(a.iter().map(|v| Node::from_json(v, span)).collect()),
            Json::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| {
                        (
                            Key {
                                name: k.clone(),
                                span,
                            },
                            Node::from_json(v, span),
                        )
                    })
                    .collect(),
            ),
        };
        Node::new(value, span)
    }

    /// Short name of the node's type for messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "sequence",
            Value::Map(_) => "mapping",
        }
    }
}

/// Format a float the way Go's `%v` does (`1e+08`, `1.5`, `3`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e6).contains(&abs) {
        // Go's %v is %g with the shortest digits: exponent form when exp < -4 or >= 6.
        let s = format!("{:e}", f);
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

#[cfg(test)]
mod tests {
    use super::go_float;

    #[test]
    fn go_float_format() {
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(100000000.0), "1e+08");
        assert_eq!(go_float(1234567.0), "1.234567e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(0.00001), "1e-05");
    }
}
