//! Runs every case of shared/conformance/interpolation.json through
//! `compose::interpolate::substitute`.

mod common;
use common::shared_dir;

use compose2k8s::compose::interpolate::{interpolate_tree, substitute, InterpError};
use compose2k8s::compose::node::Node;
use compose2k8s::source::Span;
use serde_json::Value as Json;
use std::collections::HashMap;

fn load(name: &str) -> Vec<Json> {
    let path = shared_dir().join("conformance").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check(case: &Json) -> Result<(), String> {
    let template = case["template"].as_str().ok_or("no template")?;
    let env: HashMap<String, String> = case["env"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let lookup = |k: &str| env.get(k).cloned();
    let warnings: Vec<String> = case["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let got = substitute(template, &lookup);
    if case["error"].as_bool() == Some(true) {
        let contains = case["error_contains"].as_str().unwrap_or_default();
        let err = match got {
            Ok(v) => return Err(format!("expected error, got {:?}", v.value)),
            Err(e) => e,
        };
        let msg = err.to_string();
        if !msg.contains(contains) {
            return Err(format!("error {msg:?} does not contain {contains:?}"));
        }
        if let Some(exact) = case["error_message"].as_str() {
            if msg != exact {
                return Err(format!("error {msg:?} != {exact:?}"));
            }
        }
        let kind_ok = matches!(
            (case["error_kind"].as_str(), &err),
            (Some("invalid_template"), InterpError::Invalid { .. })
                | (
                    Some("missing_required"),
                    InterpError::MissingRequired { .. }
                )
                | (None, _)
        );
        if !kind_ok {
            return Err(format!("wrong error kind {err:?}"));
        }
        if let (Some(path), Some(loader_error)) =
            (case["loader_path"].as_str(), case["loader_error"].as_str())
        {
            check_loader(template, &lookup, path, loader_error)?;
        }
        return Ok(());
    }
    let expected = case["expected"].as_str().ok_or("no expected")?;
    match got {
        Err(e) => Err(format!("unexpected error {e}")),
        Ok(v) if v.value != expected => Err(format!("got {:?}, want {expected:?}", v.value)),
        Ok(v) if v.unset != warnings => Err(format!("warnings {:?}, want {warnings:?}", v.unset)),
        Ok(_) => Ok(()),
    }
}

/// The loader wraps a template error with the YAML path of the value. Our diagnostic
/// keeps compose-go's text for missing variables and its first line for bad templates.
fn check_loader(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &str,
    loader_error: &str,
) -> Result<(), String> {
    let mut json = Json::String(template.to_owned());
    for seg in path.rsplit('.') {
        let mut m = serde_json::Map::new();
        m.insert(seg.to_owned(), json);
        json = Json::Object(m);
    }
    let mut tree = Node::from_json(&json, Span::default());
    let mut diags = Vec::new();
    interpolate_tree(&mut tree, lookup, &mut diags);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    let [d] = errors.as_slice() else {
        return Err(format!("expected one loader error, got {diags:?}"));
    };
    let want = loader_error.split(".\n").next().unwrap_or(loader_error);
    if !d.message.starts_with(want) {
        return Err(format!(
            "loader error {:?} does not start with {want:?}",
            d.message
        ));
    }
    Ok(())
}

#[test]
fn interpolation_conformance() {
    let cases = load("interpolation.json");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if let Err(why) = check(case) {
            failures.push(format!(
                "#{i} {} {:?}: {why}",
                case["source"].as_str().unwrap_or("?"),
                case["template"].as_str().unwrap_or("?")
            ));
        }
    }
    println!(
        "interpolation: {} passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
