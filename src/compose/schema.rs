//! Validation of the merged compose tree against the compose JSON schema that Docker
//! Compose itself validates with (compose-go's `schema/compose-spec.json`, copied
//! byte for byte into `compose-spec.schema.json`, Apache-2.0). Every violation becomes a
//! diagnostic at the `file:line:col` of the offending key or value, phrased for people
//! ("unknown key `imagee` in service `web`; did you mean `image`?"). Pure.
//!
//! The validator is generated at build time from the schema file (jsonschema's
//! `validator` macro): compiling it at run time (parsing the 76 KB schema, checking it
//! against its metaschema, building regexes and the `$ref` graph) cost ~3 ms per
//! process, more than the rest of a 10-service build. Services are validated one at a
//! time (see [`validate`]), so the JSON copy the validator needs never holds the whole
//! project. The runtime validator remains in the tests, which check that this finds
//! the same problems as validating the whole document.

use super::node::{Node, Value};
use crate::diag::Diagnostic;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;
use std::collections::BTreeSet;

const SCHEMA: &str = include_str!("compose-spec.schema.json");

/// The compose schema, compiled into code.
#[jsonschema::validator(path = "src/compose/compose-spec.schema.json")]
struct ComposeSchema;

/// One service (`$defs/service` of the same schema), compiled into code.
#[jsonschema::validator(
    schema = r##"{"$ref": "compose_spec.json#/$defs/service"}"##,
    resources = { "compose_spec.json" => { path = "src/compose/compose-spec.schema.json" } }
)]
struct ServiceSchema;

/// Validate `root`, pushing one diagnostic per problem.
pub fn validate(root: &Node, diags: &mut Vec<Diagnostic>) {
    let mut seen: BTreeSet<(Vec<String>, String)> = BTreeSet::new();
    check(root, &mut |path, kind, instance| {
        let d = describe(root, &path, kind, instance);
        if seen.insert((path, d.message.clone())) {
            diags.push(d);
        }
    });
}

/// Report every schema problem of `root` with its path in the document.
///
/// The JSON form the validators need is built a piece at a time: the document with
/// each service's mapping replaced by `{}` (which the service definition accepts),
/// then each service on its own against the service definition. Only one service's
/// copy exists at a time, instead of a copy of the whole project; the problems found
/// are the same as validating the whole document at once (tested below).
fn check(root: &Node, report: &mut dyn FnMut(Vec<String>, &ValidationErrorKind, &Json)) {
    let stub = |_: &str, svc: &Node| match svc.as_map() {
        Some(_) => Json::Object(Default::default()),
        None => svc.to_json(),
    };
    let top = object_with(root, |k, v| match k {
        "services" => object_with(v, stub),
        _ => v.to_json(),
    });
    let path_of = |prefix: &[&str], err: &jsonschema::ValidationError<'_>| -> Vec<String> {
        prefix
            .iter()
            .map(|s| s.to_string())
            .chain(err.instance_path().iter().map(|s| s.to_string()))
            .collect()
    };
    if !ComposeSchema::is_valid(&top) {
        for err in ComposeSchema::iter_errors(&top) {
            report(path_of(&[], &err), err.kind(), err.instance());
        }
    }
    let services = root.get("services").and_then(Node::as_map).into_iter();
    for (k, v) in services.flatten().filter(|(_, v)| v.as_map().is_some()) {
        let svc = v.to_json();
        if ServiceSchema::is_valid(&svc) {
            continue;
        }
        for err in ServiceSchema::iter_errors(&svc) {
            report(
                path_of(&["services", &k.name], &err),
                err.kind(),
                err.instance(),
            );
        }
    }
}

/// The JSON form of `node`, with each entry of a mapping converted by `entry(key,
/// value)` (other nodes as [`Node::to_json`]).
fn object_with(node: &Node, entry: impl Fn(&str, &Node) -> Json) -> Json {
    match &node.value {
        Value::Map(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.name.clone(), entry(&k.name, v)))
                .collect(),
        ),
        _ => node.to_json(),
    }
}

/// Human name of a path: `service "web"`, `volume "data"`, `services.web.ports[0]`.
fn where_(path: &[String]) -> String {
    match path {
        [] => "the top level".to_string(),
        [top, name] if top == "services" => format!("service `{name}`"),
        [top, name] if top == "volumes" => format!("volume `{name}`"),
        [top, name] if top == "networks" => format!("network `{name}`"),
        [top, name] if top == "configs" => format!("config `{name}`"),
        [top, name] if top == "secrets" => format!("secret `{name}`"),
        _ => format!("`{}`", dotted(path)),
    }
}

fn dotted(path: &[String]) -> String {
    let mut s = String::new();
    for seg in path {
        if seg.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.push('[');
            s.push_str(seg);
            s.push(']');
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(seg);
        }
    }
    s
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// Keys allowed at the object this path points to, from the schema (for suggestions).
fn allowed_keys(path: &[String]) -> Vec<String> {
    let Ok(schema) = serde_json::from_str::<Json>(SCHEMA) else {
        return Vec::new();
    };
    let def = |name: &str| -> Vec<String> {
        schema["$defs"][name]["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    match path {
        [] => schema["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        [s, _] if s == "services" => def("service"),
        [s, _, k] if s == "services" && k == "deploy" => def("deployment"),
        [s, _, k] if s == "services" && k == "healthcheck" => def("healthcheck"),
        [s, _, k] if s == "services" && k == "build" => schema["$defs"]["service"]["properties"]
            ["build"]["oneOf"][1]["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        [v, _] if v == "volumes" => def("volume"),
        [v, _] if v == "networks" => def("network"),
        [v, _] if v == "configs" => def("config"),
        [v, _] if v == "secrets" => def("secret"),
        _ => Vec::new(),
    }
}

fn suggest(unknown: &str, allowed: &[String]) -> Option<String> {
    allowed
        .iter()
        .map(|k| (strsim::damerau_levenshtein(unknown, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k.clone())
}

fn describe(
    root: &Node,
    path: &[String],
    kind: &ValidationErrorKind,
    instance: &Json,
) -> Diagnostic {
    // Point at the offending value when it exists, else at the nearest key.
    let span = root
        .pointer(path)
        .filter(|_| !path.is_empty())
        .map(|n| n.span)
        .unwrap_or_else(|| root.span_at(path));
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let key = unexpected.first().cloned().unwrap_or_default();
            let mut kpath = path.to_vec();
            kpath.push(key.clone());
            let kspan = root.span_at(&kpath);
            let mut d =
                Diagnostic::error(format!("unknown key `{key}` in {}", where_(path))).at(kspan);
            let allowed = allowed_keys(path);
            d = match suggest(&key, &allowed) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("custom keys must start with `x-`"),
            };
            d
        }
        ValidationErrorKind::Type { kind } => {
            let dbg = format!("{kind:?}").to_lowercase();
            let names: Vec<&str> = [
                ("array", "a list"),
                ("boolean", "a boolean"),
                ("integer", "an integer"),
                ("null", "null"),
                ("number", "a number"),
                ("object", "a mapping"),
                ("string", "a string"),
            ]
            .iter()
            .filter(|(k, _)| dbg.contains(k))
            .map(|(_, v)| *v)
            .collect();
            let want = match names.as_slice() {
                [one] => one.to_string(),
                [init @ .., last] => format!("{} or {last}", init.join(", ")),
                [] => "another type".to_string(),
            };
            Diagnostic::error(format!(
                "{} must be {want}, found {}",
                where_(path),
                json_type(instance)
            ))
            .at(span)
        }
        ValidationErrorKind::Required { property } => {
            let p = property.as_str().unwrap_or("?");
            Diagnostic::error(format!(
                "{} is missing the required key `{p}`",
                where_(path)
            ))
            .at(root.span_at(path))
        }
        ValidationErrorKind::Enum { options } => Diagnostic::error(format!(
            "{} has an invalid value; expected one of {}",
            where_(path),
            options
        ))
        .at(span),
        ValidationErrorKind::Pattern { pattern } => Diagnostic::error(format!(
            "{} has an invalid value {}",
            where_(path),
            instance
        ))
        .at(span)
        .help(format!("it must match the pattern {pattern}")),
        _ => {
            let mut msg = format!("{} is invalid", where_(path));
            if let Json::String(s) = instance {
                if s.len() <= 80 {
                    msg = format!("{} has an invalid value \"{s}\"", where_(path));
                }
            }
            let hint = match kind {
                ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
                    "the value does not match any form the compose specification allows".to_string()
                }
                other => format!("schema rule `{}` failed", other.keyword()),
            };
            Diagnostic::error(msg).at(span).help(hint)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    /// Compose files of the fixtures and the shared corpus.
    fn compose_files() -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push(p);
                }
            }
        }
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut out = Vec::new();
        walk(&root.join("fixtures"), &mut out);
        for shared in [
            root.join("../shared/corpus"),
            root.join("../../shared/corpus"),
        ] {
            walk(&shared, &mut out);
        }
        out.sort();
        out
    }

    /// Every leaf and collection of `v` replaced, one at a time, by each of a few
    /// values of other types.
    fn mutations(v: &Json, out: &mut Vec<Json>, root: &Json, path: &mut Vec<String>) {
        let subs = [
            Json::Null,
            Json::from(1),
            Json::from(-1.5),
            Json::from("x"),
            Json::from(true),
            serde_json::json!([]),
            serde_json::json!({"x-a": 1, "bogus": [1]}),
        ];
        for s in &subs {
            let mut m = root.clone();
            let ptr: String = path
                .iter()
                .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
                .collect();
            if let Some(slot) = m.pointer_mut(&ptr) {
                *slot = s.clone();
                out.push(m);
            }
        }
        match v {
            Json::Object(o) => {
                for (k, c) in o {
                    path.push(k.clone());
                    mutations(c, out, root, path);
                    path.pop();
                }
            }
            Json::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    path.push(i.to_string());
                    mutations(c, out, root, path);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// Problems [`check`] finds in `doc` (through its tree form, as the loader has
    /// it), as (JSON pointer, kind) pairs.
    fn split(doc: &Json) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        check(
            &Node::from_json(doc, crate::source::Span::default()),
            &mut |path, kind, _| {
                let ptr: String = path
                    .iter()
                    .map(|p| format!("/{}", p.replace('~', "~0").replace('/', "~1")))
                    .collect();
                out.insert((ptr, kind_name(kind)));
            },
        );
        out
    }

    fn kind_name(kind: &ValidationErrorKind) -> String {
        let kind = format!("{kind:?}");
        kind.split(['(', ' ', '{']).next().unwrap_or("").to_string()
    }

    /// The generated validators, used as [`validate`] uses them (the document with
    /// stubbed services, each service alone), agree with the runtime validator on the
    /// whole document: on validity and on where the problems are, on every compose
    /// file we have and on thousands of type-mutated variants of them.
    #[test]
    fn generated_validators_agree_with_runtime() {
        let schema: Json = serde_json::from_str(SCHEMA).unwrap();
        let runtime = jsonschema::validator_for(&schema).unwrap();
        let whole = |doc: &Json| -> BTreeSet<(String, String)> {
            runtime
                .iter_errors(doc)
                .map(|e| (e.instance_path().to_string(), kind_name(e.kind())))
                .collect()
        };
        let files = compose_files();
        assert!(
            files.len() > 100,
            "only {} compose files found",
            files.len()
        );
        let (mut docs, mut checked, mut invalid) = (0, 0, 0);
        for f in &files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            let Ok(doc) = serde_yaml::from_str::<Json>(&text) else {
                continue;
            };
            docs += 1;
            let mut variants = vec![doc.clone()];
            mutations(&doc, &mut variants, &doc, &mut Vec::new());
            for v in variants.iter().take(400) {
                let (gen, run) = (split(v), whole(v));
                assert_eq!(gen.is_empty(), runtime.is_valid(v), "{}: {v}", f.display());
                // Same places; the generated code may stop at the first failing keyword
                // of a subschema (an `enum` before its `type`), so its kinds are a subset.
                let paths = |s: &BTreeSet<(String, String)>| -> BTreeSet<String> {
                    s.iter().map(|(p, _)| p.clone()).collect()
                };
                assert_eq!(paths(&gen), paths(&run), "{}: {v}", f.display());
                assert!(
                    gen.is_subset(&run),
                    "{}: {v}\n{gen:?}\n{run:?}",
                    f.display()
                );
                checked += 1;
                invalid += usize::from(!run.is_empty());
            }
        }
        assert!(
            docs > 100 && checked > 10_000 && invalid > 5_000,
            "{docs} files, {checked} documents, {invalid} invalid"
        );
    }
}
