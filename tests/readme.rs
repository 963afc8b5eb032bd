//! The README stays true: its mapping table has a row for every compose service key the
//! model knows (the same table `lower::unmapped` warns from), and it starts with the two
//! commands (run the bundled example, run the tests) with the example present.

use compose2k8s::lower::unmapped::SERVICE_KEYS;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md")
}

#[test]
fn mapping_table_has_every_service_key() {
    let text = readme();
    let missing: Vec<&str> = SERVICE_KEYS
        .iter()
        .map(|(k, _)| *k)
        .filter(|k| !text.contains(&format!("| `{k}` |")))
        .collect();
    assert!(
        missing.is_empty(),
        "README mapping table lacks rows for {missing:?}"
    );
}

#[test]
fn readme_starts_with_the_two_commands() {
    let text = readme();
    let block: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("```"))
        .skip(1)
        .take(2)
        .collect();
    assert!(
        block[0].starts_with("cargo run -- build -f fixtures/example-voting-app/compose.yaml"),
        "{block:?}"
    );
    assert!(block[1].starts_with("cargo test"), "{block:?}");
    assert!(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/example-voting-app/compose.yaml"
    ))
    .is_file());
}
