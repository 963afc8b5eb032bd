//! Typed values straight from the spanned tree: a `serde::Deserializer` over a borrowed
//! [`Node`], so the loader builds the model (`Service`, `Volume`, ...) without first
//! copying every service into a `serde_json::Value`. It reads a node exactly as
//! `serde_json::from_value(node.to_json())` would (integers as `i64`, non-finite floats
//! as their Go spelling, `null` as unit or `None`), and reports the same serde messages.
//! With [`from_node_without_extensions`] the `x-*` keys of the top mapping are left
//! out, as the model keeps them apart. Pure.

use super::node::{go_float, Key, Node, Value};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// A deserialisation failure: serde's own message (`invalid type: ...`, `unknown field
/// ...`), as `serde_json` would phrase it.
pub use serde::de::value::Error;

/// Deserialise `T` from `node`.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Error> {
    T::deserialize(de(node))
}

/// Deserialise `T` from `node`, leaving out the `x-*` keys of its top mapping.
pub fn from_node_without_extensions<T: DeserializeOwned>(node: &Node) -> Result<T, Error> {
    T::deserialize(NodeDe {
        node,
        skip_extensions: true,
    })
}

struct NodeDe<'a> {
    node: &'a Node,
    /// Skip `x-*` keys of this node's mapping (not of nested ones).
    skip_extensions: bool,
}

fn de(node: &Node) -> NodeDe<'_> {
    NodeDe {
        node,
        skip_extensions: false,
    }
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Null => v.visit_unit(),
            Value::Bool(b) => v.visit_bool(*b),
            Value::Int(i) => v.visit_i64(*i),
            Value::Float(f) if f.is_finite() => v.visit_f64(*f),
            Value::Float(f) => v.visit_string(go_float(*f)),
            Value::Str(s) => v.visit_borrowed_str(s),
            Value::Seq(items) => {
                let mut seq = Seq {
                    items: items.iter(),
                };
                let out = v.visit_seq(&mut seq)?;
                match seq.items.len() {
                    0 => Ok(out),
                    _ => Err(de::Error::invalid_length(
                        items.len(),
                        &"fewer elements in array",
                    )),
                }
            }
            Value::Map(entries) => {
                let skip = self.skip_extensions;
                let mut map = Entries {
                    entries: entries.iter(),
                    skip_extensions: skip,
                    value: None,
                };
                let out = v.visit_map(&mut map)?;
                match map.entries.filter(|(k, _)| !skipped(k, skip)).count() {
                    0 => Ok(out),
                    _ => {
                        let len = entries.iter().filter(|(k, _)| !skipped(k, skip)).count();
                        Err(de::Error::invalid_length(len, &"fewer elements in map"))
                    }
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Str(s) => v.visit_enum(s.as_str().into_deserializer()),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, value) = &entries[0];
                v.visit_enum(Variant { key: k, value })
            }
            Value::Map(_) => Err(de::Error::invalid_value(
                de::Unexpected::Map,
                &"map with a single key",
            )),
            _ => Err(de::Error::invalid_type(self.unexpected(), &"string or map")),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

impl NodeDe<'_> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match &self.node.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Str(s) => de::Unexpected::Str(s),
            Value::Seq(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
        }
    }
}

/// A mapping key, borrowed, as a deserialiser.
fn key_de(k: &Key) -> de::value::BorrowedStrDeserializer<'_, Error> {
    de::value::BorrowedStrDeserializer::new(&k.name)
}

fn skipped(k: &Key, skip_extensions: bool) -> bool {
    skip_extensions && k.name.starts_with("x-")
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for Seq<'de> {
    type Error = Error;
    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.items
            .next()
            .map(|n| seed.deserialize(de(n)))
            .transpose()
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Key, Node)>,
    skip_extensions: bool,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for Entries<'de> {
    type Error = Error;
    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        for (k, v) in self.entries.by_ref() {
            if skipped(k, self.skip_extensions) {
                continue;
            }
            self.value = Some(v);
            return seed.deserialize(key_de(k)).map(Some);
        }
        Ok(None)
    }
    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(de(v)),
            None => Err(de::Error::custom("value requested before its key")),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `{variant: value}` as an enum.
struct Variant<'a> {
    key: &'a Key,
    value: &'a Node,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = NodeDe<'de>;
    fn variant_seed<V: de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'de>), Error> {
        Ok((seed.deserialize(key_de(self.key))?, de(self.value)))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'de> {
    type Error = Error;
    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }
    fn newtype_variant_seed<T: de::DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_any(self, v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::model::{Service, Volume};
    use crate::source::Sources;
    use serde_json::Value as Json;

    fn tree(yaml: &str) -> Node {
        let mut sources = Sources::new();
        let id = sources.add("t.yaml", yaml);
        crate::compose::yaml::parse(yaml, id)
            .expect("parses")
            .into_iter()
            .next()
            .expect("one document")
    }

    /// Whatever `serde_json::from_value(node.to_json())` makes or says, we make or say.
    fn same<T: DeserializeOwned + std::fmt::Debug + PartialEq>(yaml: &str) {
        let n = tree(yaml);
        let ours = from_node::<T>(&n).map_err(|e| e.to_string());
        let theirs = serde_json::from_value::<T>(n.to_json()).map_err(|e| e.to_string());
        assert_eq!(ours, theirs, "{yaml}");
    }

    #[test]
    fn reads_like_serde_json_from_value() {
        for y in [
            "a: 1",
            "a: -1",
            "a: 1.5",
            "a: .nan",
            "a: -.inf",
            "a: null",
            "a: ~",
            "a: true",
            "a: [1, x, null, {b: 2}]",
            "a: {}",
            "[]",
            "x",
            "1",
            "1e3",
            "0x1F",
        ] {
            same::<Json>(y);
        }
        same::<Option<u32>>("null");
        same::<Option<u32>>("5");
        same::<u32>("-5");
        same::<u8>("300");
        same::<String>("5");
        same::<Vec<String>>("[a, b]");
        same::<Vec<String>>("[a, 1]");
        same::<(u8, String)>("[1, a]");
        same::<(u8, String)>("[1, a, b]");
        same::<std::collections::BTreeMap<String, Option<String>>>("{a: x, b: null}");
        same::<Volume>("name: v\ndriver: local\nx-k: 1\nlabels: {a: b}");
        same::<Volume>("name: [1]");
        #[derive(serde::Deserialize, Debug, PartialEq)]
        enum E {
            A,
            B(u8),
            C { d: String },
        }
        same::<Vec<E>>("[A, {B: 1}, {C: {d: x}}]");
        same::<E>("{A: 1, B: 2}");
        same::<E>("[1]");
    }

    #[test]
    fn services_match_and_extensions_are_left_out() {
        let y = "image: nginx\nports: [{target: 80, published: '8080', protocol: tcp}]\n\
                 environment: {A: '1', B: null}\nx-kubernetes: {replicas: 2}\n\
                 deploy: {replicas: 3, resources: {limits: {cpus: '0.5'}}}";
        let n = tree(y);
        let ours: Service = from_node_without_extensions(&n).unwrap();
        let mut json = n.to_json();
        if let Json::Object(m) = &mut json {
            m.remove("x-kubernetes");
        }
        let theirs: Service = serde_json::from_value(json).unwrap();
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"));
        // Without leaving them out, the service rejects the extension like serde_json.
        let e = from_node::<Service>(&n).unwrap_err().to_string();
        assert_eq!(
            e,
            serde_json::from_value::<Service>(n.to_json())
                .unwrap_err()
                .to_string()
        );
    }
}
