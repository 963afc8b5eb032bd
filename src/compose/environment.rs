//! A service's final container environment, as compose-go's
//! `Project.WithServicesEnvironmentResolved` computes it: `environment:` entries without
//! a value are filled from the project environment; `env_file` files are parsed in order
//! (their interpolation looks up the project environment, then the service's
//! `environment`, then keys defined earlier in the same file, then earlier env files);
//! `environment` entries override env-file values. An entry that stays without a value
//! is reported as `None` ("declared but unset": the caller drops it).
//!
//! Also converts the compose `environment:` value (mapping or `KEY=VALUE` list) into
//! entries. Pure: env-file texts and the project environment come from the caller.

use super::dotenv::{self, OrderedEnv};
use super::node::{Node, Value};
use crate::diag::Diagnostic;
use std::collections::{BTreeMap, HashMap};

/// Resolve one service's environment. `env_files` are the texts of its `env_file`
/// entries in order; `environment` its `environment:` entries in order (a later
/// duplicate wins). Errors name the failing env file by position (1-based).
pub fn resolve(
    project_env: &dyn Fn(&str) -> Option<String>,
    env_files: &[String],
    environment: &[(String, Option<String>)],
) -> Result<BTreeMap<String, Option<String>>, String> {
    let mut service: HashMap<&str, Option<String>> = HashMap::with_capacity(environment.len());
    for (k, v) in environment {
        let v = match v {
            Some(v) => Some(v.clone()),
            None => project_env(k),
        };
        service.insert(k.as_str(), v);
    }
    let lookup = |k: &str| project_env(k).or_else(|| service.get(k).cloned().flatten());
    let mut files = OrderedEnv::default();
    for (i, text) in env_files.iter().enumerate() {
        let vars = {
            let earlier = |k: &str| files.get(k).map(str::to_owned);
            dotenv::parse_with_fallback(text, Some(&lookup), Some(&earlier))
                .map_err(|e| format!("failed to read env_file #{}: {e}", i + 1))?
        };
        for (k, v) in vars {
            files.set(k, v);
        }
    }
    let mut out: BTreeMap<String, Option<String>> = files
        .entries
        .into_iter()
        .map(|(k, v)| (k, Some(v)))
        .collect();
    for (k, v) in service {
        out.insert(k.to_owned(), v);
    }
    Ok(out)
}

/// Entries of a compose `environment:` value, leniently: a mapping (`KEY: value`,
/// numbers and booleans formatted the way Go's `%v` prints them, `null` = no value) or
/// a list of `KEY=VALUE` / `KEY` strings. Invalid parts are skipped; use
/// [`try_environment_entries`] to report them.
pub fn environment_entries(node: &Node) -> Vec<(String, Option<String>)> {
    match &node.value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| match &v.value {
                Value::Null => Some((k.name.clone(), None)),
                _ => v.scalar_string().map(|s| (k.name.clone(), Some(s))),
            })
            .collect(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(split_entry))
            .collect(),
        _ => Vec::new(),
    }
}

/// Like [`environment_entries`], but reports what compose-go rejects: a value that is
/// neither mapping nor list, a mapping value that is a collection, a list item that is
/// not a string, and a key with a trailing space. `path` names the value in messages
/// (e.g. `services.web.environment`).
pub fn try_environment_entries(
    node: &Node,
    path: &str,
) -> Result<Vec<(String, Option<String>)>, Diagnostic> {
    let entries = match &node.value {
        Value::Null => Vec::new(),
        Value::Map(m) => {
            let mut out = Vec::with_capacity(m.len());
            for (k, v) in m {
                let value = match &v.value {
                    Value::Null => None,
                    _ => match v.scalar_string() {
                        Some(s) => Some(s),
                        None => {
                            return Err(Diagnostic::error(format!(
                                "{path}.{} must be a boolean, null, number or string",
                                k.name
                            ))
                            .at(v.span)
                            .help("quote the value or write it as a single string"));
                        }
                    },
                };
                out.push((k.name.clone(), value, k.span));
            }
            out
        }
        Value::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let Some(s) = item.as_str() else {
                    return Err(Diagnostic::error(format!("{path}.{i} must be a string"))
                        .at(item.span)
                        .help("write list entries as KEY=VALUE strings"));
                };
                let (k, v) = split_entry(s);
                out.push((k, v, item.span));
            }
            out
        }
        _ => {
            return Err(Diagnostic::error(format!("{path} must be a mapping"))
                .at(node.span)
                .help("write `environment:` as a mapping (KEY: value) or a list of KEY=VALUE"));
        }
    };
    let mut result = Vec::with_capacity(entries.len());
    for (k, v, span) in entries {
        if k.ends_with(' ') {
            return Err(Diagnostic::error(format!(
                "environment variable {k} is declared with a trailing space"
            ))
            .at(span)
            .help("remove the space before `=`"));
        }
        result.push((k, v));
    }
    Ok(result)
}

/// `KEY=VALUE` -> (KEY, Some(VALUE)); `KEY` -> (KEY, None).
fn split_entry(s: &str) -> (String, Option<String>) {
    match s.split_once('=') {
        Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
        None => (s.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml;
    use crate::source::FileId;

    fn node(text: &str) -> Node {
        yaml::parse(text, FileId(0)).unwrap().remove(0)
    }

    #[test]
    fn entries_table() {
        for (text, want) in [
            (
                "A: 1\nB: 1.5\nC: true\nD:\nE: \"\"\nF: 1e+08\n",
                vec![
                    ("A", Some("1")),
                    ("B", Some("1.5")),
                    ("C", Some("true")),
                    ("D", None),
                    ("E", Some("")),
                    ("F", Some("1e+08")),
                ],
            ),
            (
                "- A=1\n- B\n- C=\n- D=x=y\n",
                vec![
                    ("A", Some("1")),
                    ("B", None),
                    ("C", Some("")),
                    ("D", Some("x=y")),
                ],
            ),
        ] {
            let want: Vec<(String, Option<String>)> = want
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
                .collect();
            assert_eq!(environment_entries(&node(text)), want, "{text}");
            assert_eq!(try_environment_entries(&node(text), "e").unwrap(), want);
        }
    }

    #[test]
    fn precedence() {
        let project = |k: &str| match k {
            "P" => Some("project".to_owned()),
            _ => None,
        };
        let got = resolve(
            &project,
            &[
                "A=1\nP=file\nX=${P}\nY=${S}\nZ=${A}\n".to_owned(),
                "A=2\nW=${A}\n".to_owned(),
            ],
            &[
                ("S".into(), Some("svc".into())),
                ("P".into(), None),
                ("Q".into(), None),
            ],
        )
        .unwrap();
        let get = |k: &str| got.get(k).cloned().flatten();
        assert_eq!(get("P").as_deref(), Some("project"));
        assert_eq!(get("X").as_deref(), Some("project"));
        assert_eq!(get("Y").as_deref(), Some("svc"));
        assert_eq!(get("Z").as_deref(), Some("1"));
        assert_eq!(get("W").as_deref(), Some("2"));
        assert_eq!(got.get("Q"), Some(&None));
    }
}
