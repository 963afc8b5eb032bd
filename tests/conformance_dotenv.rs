//! Runs every case of shared/conformance/dotenv.json through `compose::dotenv`.

mod common;
use common::shared_dir;

use compose2k8s::compose::dotenv;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

fn load(name: &str) -> Vec<Json> {
    let path = shared_dir().join("conformance").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn string_map(j: &Json) -> Option<HashMap<String, String>> {
    j.as_object().map(|o| {
        o.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    })
}

fn check(case: &Json) -> Result<(), String> {
    let lookup_map = string_map(&case["lookup"]);
    let lookup_fn = |k: &str| lookup_map.as_ref().and_then(|m| m.get(k).cloned());
    let lookup: Option<dotenv::Lookup<'_>> = if lookup_map.is_some() {
        Some(&lookup_fn)
    } else {
        None
    };
    let got: Result<Vec<(String, String)>, String> = if let Some(files) = case["files"].as_array() {
        let texts: Vec<&str> = files.iter().filter_map(Json::as_str).collect();
        dotenv::load_files(&texts, lookup).map_err(|(i, e)| format!("file {i}: {e}"))
    } else {
        let input = case["input"].as_str().ok_or("no input")?;
        dotenv::parse(input, lookup).map_err(|e| e.to_string())
    };
    if case["error"].as_bool() == Some(true) {
        let contains = case["error_contains"].as_str().unwrap_or_default();
        return match got {
            Ok(v) => Err(format!("expected error, got {v:?}")),
            Err(msg) if !msg.contains(contains) => {
                Err(format!("error {msg:?} does not contain {contains:?}"))
            }
            Err(msg) => match case["error_message"].as_str() {
                Some(exact) if case["files"].is_null() && msg != exact => {
                    Err(format!("error {msg:?} != {exact:?}"))
                }
                _ => Ok(()),
            },
        };
    }
    let expected: BTreeMap<String, String> = string_map(&case["expected"])
        .ok_or("no expected")?
        .into_iter()
        .collect();
    let got = got.map_err(|e| format!("unexpected error {e}"))?;
    let n = got.len();
    let got: BTreeMap<String, String> = got.into_iter().collect();
    if got.len() != n {
        return Err("duplicate keys in result".into());
    }
    if got != expected {
        return Err(format!("got {got:?}, want {expected:?}"));
    }
    Ok(())
}

#[test]
fn dotenv_conformance() {
    let cases = load("dotenv.json");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(why) = check(case) {
            failures.push(format!(
                "#{i} {} {:?}: {why}",
                case["source"].as_str().unwrap_or("?"),
                case.get("input").or(case.get("files"))
            ));
        }
    }
    println!(
        "dotenv: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
