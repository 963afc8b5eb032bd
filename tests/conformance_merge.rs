//! Conformance run of `compose::merge` against shared/conformance/merge.json (levels
//! `yaml_merge`, `unicity`, `extends`). The `load` level needs the full loader and is
//! run by the lead's tests/conformance_merge_load.rs; here those cases are skipped and
//! listed, and a separate check verifies that their `!reset` / `!override` paths are
//! gone from the raw merged trees.

mod common;
use common::shared_dir;

use compose2k8s::compose::merge::{enforce_unicity, merge, merge_service, resolve_tags};
use compose2k8s::compose::node::Node;
use compose2k8s::compose::yaml;
use compose2k8s::source::{FileId, Span};
use serde_json::Value as Json;

fn cases() -> Vec<Json> {
    let path = shared_dir().join("conformance/merge.json");
    let text = std::fs::read_to_string(&path).expect("read merge.json");
    serde_json::from_str::<Vec<Json>>(&text).expect("parse merge.json")
}

/// JSON equality where object key order does not matter and array order does.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

fn tree(j: &Json, file: u32) -> Node {
    Node::from_json(j, Span::new(FileId(file), 1, 1, 1))
}

fn label(case: &Json, i: usize) -> String {
    let source = case["source"].as_str().unwrap_or("?");
    format!("#{i} {source}")
}

/// Ok(()) on pass, Err(reason) on failure.
fn run(case: &Json) -> Result<(), String> {
    let level = case["level"].as_str().unwrap_or("");
    let result = match level {
        "yaml_merge" => merge(tree(&case["base"], 1), tree(&case["override"], 2)),
        "extends" => merge_service(tree(&case["base"], 1), tree(&case["override"], 2)),
        "unicity" => {
            let mut n = tree(&case["input"], 1);
            enforce_unicity(&mut n);
            Ok(n)
        }
        other => return Err(format!("unknown level {other}")),
    };
    if case["error"].as_bool() == Some(true) {
        let want = case["error_contains"].as_str().unwrap_or("");
        return match result {
            Err(e) if e.message.contains(want) => Ok(()),
            Err(e) => Err(format!("error {:?} does not contain {want:?}", e.message)),
            Ok(n) => Err(format!("expected error {want:?}, got {}", n.to_json())),
        };
    }
    match result {
        Ok(n) => {
            let got = n.to_json();
            if same(&got, &case["expected"]) {
                Ok(())
            } else {
                Err(format!(
                    "\n   got:      {got}\n   expected: {}",
                    case["expected"]
                ))
            }
        }
        Err(e) => Err(format!("unexpected error: {}", e.message)),
    }
}

#[test]
fn conformance_merge() {
    let cases = cases();
    let (mut passed, mut failed) = (0, 0);
    let mut skipped: Vec<(String, &str)> = Vec::new();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        if case["level"] == "load" {
            skipped.push((
                label(case, i),
                "needs loader (runner: tests/conformance_merge_load.rs by lead)",
            ));
            continue;
        }
        match run(case) {
            Ok(()) => passed += 1,
            Err(why) => {
                failed += 1;
                failures.push(format!("{}: {why}", label(case, i)));
            }
        }
    }
    println!(
        "merge: {passed} passed, {failed} failed, {} skipped",
        skipped.len()
    );
    for (name, why) in &skipped {
        println!("  skipped {name}: {why}");
    }
    for f in &failures {
        println!("  FAILED {f}");
    }
    assert_eq!(failed, 0, "{} merge conformance failures", failed);
}

fn absent(root: &Node, dotted: &str) -> bool {
    let path: Vec<&str> = dotted.split('.').collect();
    root.pointer(&path).is_none()
}

/// The `load` cases that involve neither `extends` nor a YAML error: parse each file,
/// merge them in order, and check that every `absent` path is gone from the raw tree
/// (these are exactly the `!reset` / `!override` cases).
#[test]
fn load_cases_reset_and_override_on_raw_trees() {
    let mut checked = 0;
    for (i, case) in cases().iter().enumerate() {
        if case["level"] != "load" || case["error"].as_bool() == Some(true) {
            continue;
        }
        let files = case["files"].as_array().expect("files");
        if files
            .iter()
            .any(|f| f["content"].as_str().unwrap_or("").contains("extends"))
        {
            continue;
        }
        let mut acc: Option<Node> = None;
        for (n, f) in files.iter().enumerate() {
            let text = f["content"].as_str().expect("content");
            let docs = yaml::parse(text, FileId(n as u32)).expect("yaml");
            let doc = docs.into_iter().next().expect("one document");
            acc = Some(match acc {
                None => {
                    let mut d = doc;
                    resolve_tags(&mut d);
                    d
                }
                Some(base) => merge(base, doc).expect("merge"),
            });
        }
        let merged = acc.expect("at least one file");
        for p in case["absent"].as_array().into_iter().flatten() {
            let p = p.as_str().expect("absent path");
            assert!(
                absent(&merged, p),
                "{}: {p} still present in {}",
                label(case, i),
                merged.to_json()
            );
            checked += 1;
        }
    }
    println!("load: {checked} absent paths checked on raw merged trees");
    assert!(checked >= 8);
}

/// Resolve same-file `extends` in a raw (still tagged) file tree with `merge_service`,
/// the way compose-go does it before merging files.
fn resolve_extends(file: &mut Node) {
    fn target(svc: &Node) -> Option<String> {
        let e = svc.get("extends")?;
        match e.as_str() {
            Some(s) => Some(s.to_string()),
            None => e.get("service")?.as_str().map(str::to_string),
        }
    }
    fn resolve(name: &str, raw: &Node, depth: usize) -> Node {
        assert!(depth < 10, "extends cycle");
        let svc = raw.get(name).expect("extended service exists").clone();
        match target(&svc) {
            None => svc,
            Some(base) => {
                let base = resolve(&base, raw, depth + 1);
                let mut over = svc;
                over.remove("extends");
                merge_service(base, over).expect("merge_service")
            }
        }
    }
    let raw = file.get("services").expect("services").clone();
    let names: Vec<String> = raw
        .as_map()
        .expect("services mapping")
        .iter()
        .map(|(k, _)| k.name.clone())
        .collect();
    for name in names {
        let resolved = resolve(&name, &raw, 0);
        if let Some(services) = file.get_mut("services") {
            services.set(&name, resolved);
        }
    }
}

/// The single-file `extends` load cases: `!override` inside an extending service must
/// replace the inherited value, also through a chain.
#[test]
fn load_cases_extends_override_on_raw_trees() {
    let mut checked = 0;
    for (i, case) in cases().iter().enumerate() {
        let files = case["files"].as_array();
        let Some([file]) = files.map(Vec::as_slice) else {
            continue;
        };
        let text = file["content"].as_str().expect("content");
        if case["level"] != "load" || !text.contains("extends") {
            continue;
        }
        let mut doc = yaml::parse(text, FileId(0))
            .expect("yaml")
            .into_iter()
            .next()
            .expect("document");
        resolve_extends(&mut doc);
        resolve_tags(&mut doc);
        enforce_unicity(&mut doc);
        for p in case["absent"].as_array().into_iter().flatten() {
            let p = p.as_str().expect("absent path");
            assert!(absent(&doc, p), "{}: {p} present", label(case, i));
            checked += 1;
        }
        // The expected depends_on keys are exactly the raw entries.
        for (svc, deps) in case["expected"]["services"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let want: Vec<&String> = deps["depends_on"]
                .as_object()
                .expect("deps")
                .keys()
                .collect();
            let got = doc
                .pointer(&["services", svc.as_str(), "depends_on"])
                .map(Node::to_json)
                .expect("depends_on");
            // A list when only one side defined it, a mapping once merged.
            let mut got: Vec<String> = match &got {
                Json::Array(a) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Json::Object(o) => o.keys().cloned().collect(),
                other => panic!("depends_on is {other}"),
            };
            got.sort();
            let mut want: Vec<String> = want.into_iter().cloned().collect();
            want.sort();
            assert_eq!(got, want, "{}", label(case, i));
            checked += 1;
        }
    }
    println!("extends: {checked} checks on raw trees");
    assert!(checked >= 4);
}
