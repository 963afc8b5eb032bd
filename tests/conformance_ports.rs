//! Runs every case of `shared/conformance/ports.json` through
//! [`compose2k8s::compose::ports::parse_port`]: results must equal `expected` exactly
//! (as JSON), errors must contain the reference text, compared case-insensitively.

mod common;
use common::shared_dir;

use compose2k8s::compose::ports::parse_port;
use serde_json::Value;

#[test]
fn ports_conformance() {
    let text = std::fs::read_to_string(shared_dir().join("conformance/ports.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    let (mut passed, mut failed) = (0, Vec::new());
    for case in &cases {
        let spec = case["spec"].as_str().unwrap();
        let got = parse_port(spec);
        let ok = if case["error"] == Value::Bool(true) {
            let want = case["error_contains"]
                .as_str()
                .or(case["error_message"].as_str())
                .unwrap();
            match &got {
                Err(e) => e.to_lowercase().contains(&want.to_lowercase()),
                Ok(_) => false,
            }
        } else {
            match &got {
                Ok(v) => serde_json::to_value(v).unwrap() == case["expected"],
                Err(_) => false,
            }
        };
        if ok {
            passed += 1;
        } else {
            failed.push(format!("{spec:?}: got {got:?}, case {case}"));
        }
    }
    println!("ports: {passed} passed, {} failed", failed.len());
    for f in &failed {
        println!("  FAIL {f}");
    }
    assert!(failed.is_empty(), "{} ports cases failed", failed.len());
}
