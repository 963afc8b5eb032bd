//! The output self-check: parses a multi-document manifest stream and checks that it
//! is internally consistent (filled in below as lowering lands).

/// Check a `build` output stream. `Err` lists every problem found.
pub fn check_stream(stdout: &str, _stderr: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(stdout) {
        if let Err(e) = <serde_json::Value as serde::Deserialize>::deserialize(doc) {
            problems.push(format!("output is not valid YAML: {e}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
