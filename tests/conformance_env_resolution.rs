//! Runs every case of shared/conformance/env_resolution.json through
//! `compose::environment`.

mod common;
use common::shared_dir;

use compose2k8s::compose::environment::{resolve, try_environment_entries};
use compose2k8s::compose::yaml;
use compose2k8s::source::FileId;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

fn load(name: &str) -> Vec<Json> {
    let path = shared_dir().join("conformance").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn opt_map(j: &Json) -> Vec<(String, Option<String>)> {
    j.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned)))
                .collect()
        })
        .unwrap_or_default()
}

fn check(case: &Json) -> Result<(), String> {
    let project: HashMap<String, String> = opt_map(&case["project_env"])
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    let project_env = |k: &str| project.get(k).cloned();
    let env_files: Vec<String> = case["env_files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let got: Result<BTreeMap<String, Option<String>>, String> =
        if let Some(text) = case["environment_yaml"].as_str() {
            let docs = yaml::parse(text, FileId(0)).map_err(|d| d.message)?;
            let node = docs.first().ok_or("empty yaml")?;
            try_environment_entries(node, "services.foo.environment")
                .map_err(|d| d.message)
                .and_then(|entries| resolve(&project_env, &env_files, &entries))
        } else {
            resolve(&project_env, &env_files, &opt_map(&case["environment"]))
        };
    if case["error"].as_bool() == Some(true) {
        let contains = case["error_contains"].as_str().unwrap_or_default();
        return match got {
            Ok(v) => Err(format!("expected error, got {v:?}")),
            Err(msg) if !msg.contains(contains) => {
                Err(format!("error {msg:?} does not contain {contains:?}"))
            }
            Err(_) => Ok(()),
        };
    }
    let expected: BTreeMap<String, Option<String>> =
        opt_map(&case["expected"]).into_iter().collect();
    let got = got.map_err(|e| format!("unexpected error {e}"))?;
    if got != expected {
        return Err(format!("got {got:?}, want {expected:?}"));
    }
    Ok(())
}

#[test]
fn env_resolution_conformance() {
    let cases = load("env_resolution.json");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(why) = check(case) {
            failures.push(format!(
                "#{i} {}: {why}",
                case["source"].as_str().unwrap_or("?")
            ));
        }
    }
    println!(
        "env_resolution: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
