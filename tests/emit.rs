//! Integration tests for the output stage: the YAML writer checked against real YAML
//! 1.1 readers (kubectl, PyYAML), kustomize's name hash and kustomize directory output
//! against `kubectl kustomize`, and the atomic writer / `--check` on a real file
//! system. Tests that need an external tool print a note and pass when it is missing.

use compose2k8s::emit::write::{check, write_atomic, Target};
use compose2k8s::emit::{render_files, render_stream, Format};
use compose2k8s::k8s::hash::{configmap_hash, secret_hash};
use compose2k8s::k8s::Manifest;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn tool_available(cmd: &str, args: &[&str]) -> bool {
    Command::new(cmd)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn have_kubectl() -> bool {
    let ok = tool_available("kubectl", &["version", "--client"]);
    if !ok {
        eprintln!("note: kubectl not on PATH, skipping this check");
    }
    ok
}

/// Run a command with `input` on stdin; stdout on success, panics with stderr otherwise.
fn run(cmd: &str, args: &[&str], input: &str) -> String {
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}\ninput:\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn manifest(body: Value) -> Manifest {
    Manifest::from_json(body, None).unwrap()
}

/// A YAML stream of arbitrary JSON documents, written by the emitter's YAML writer
/// (what `render_stream` does for typed objects).
fn stream(docs: &[Value]) -> String {
    docs.iter()
        .map(|d| compose2k8s::emit::yaml::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Strings a careless emitter gets wrong for some YAML reader. (No control characters:
/// kubectl's reader rejects those even when escaped.)
fn tricky() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        " ",
        "a",
        "yes",
        "Yes",
        "YES",
        "no",
        "No",
        "y",
        "Y",
        "n",
        "N",
        "on",
        "On",
        "OFF",
        "off",
        "true",
        "False",
        "null",
        "Null",
        "NULL",
        "~",
        "0",
        "00",
        "0123",
        "0o17",
        "0O17",
        "0x1F",
        "0X1f",
        "0x_1F",
        "0b101",
        "0B1",
        "1e3",
        "1E3",
        "1e+3",
        "1.0e+3",
        "1_000",
        "1__0",
        ".5",
        "5.",
        "+1",
        "-1",
        "-0",
        "+.5",
        "1.2.3",
        "12:30",
        "1:20:30",
        "190:20:30.15",
        "2001-12-14",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        ".inf",
        "-.Inf",
        "+.INF",
        ".nan",
        ".NaN",
        "<<",
        "=",
        "-",
        "--port=80",
        "- a",
        "?",
        "? a",
        ":",
        ": a",
        "a:",
        "a: b",
        "a #b",
        "#c",
        "&a",
        "*a",
        "!a",
        "!!str",
        "|",
        ">",
        "'",
        "\"",
        "%YAML",
        "@a",
        "`a`",
        "{}",
        "[]",
        "{a: 1}",
        "[1, 2]",
        ",",
        "a,b",
        "---",
        "...",
        "a\tb",
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "\na",
        " a\nb",
        "a\n b\n",
        "a \nb",
        "\n",
        "é",
        "☃",
        "😀",
        "日本",
        "\u{a0}",
        "\u{2028}",
        "\u{85}",
        "\u{feff}",
        "it's",
        "a'b'c",
        "\\",
        "\\n",
        "#!/bin/sh\nset -e\necho 'x: y' # c\n",
        "key: value\nlist:\n- a\n",
        "nginx:1.25",
        "100Mi",
        "500m",
        "http://a.b/c?d=e#f",
        "$(VAR)",
        "${VAR:-x}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x".repeat(300));
    v
}

/// A ConfigMap carrying every tricky string as a value (and as a key, where kubectl's
/// reader allows) plus some nesting.
fn tricky_doc() -> Value {
    let mut data = serde_json::Map::new();
    for (i, s) in tricky().into_iter().enumerate() {
        data.insert(format!("v{i:03}"), Value::String(s.clone()));
        if !s.is_empty() && !s.contains('\n') {
            data.insert(format!("k{i:03}{s}"), Value::String(format!("{i}")));
            data.insert(s, Value::String(format!("{i}")));
        }
    }
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tricky", "labels": {"yes": "no", "on": "0123"}, "annotations": {}},
        "data": data,
        "extra": {"list": tricky(), "nested": [[1, 2.5, true, null], [], {}, [{"a": "yes"}]],
                  "big": 1e20, "small": 1.5e-7, "neg": -3},
    })
}

#[test]
fn yaml_survives_kubectl_reader() {
    if !have_kubectl() {
        return;
    }
    let doc = tricky_doc();
    let yaml = stream(std::slice::from_ref(&doc));
    let out = run(
        "kubectl",
        &["label", "--local", "-f", "-", "emit-test=1", "-o", "json"],
        &yaml,
    );
    let mut back: Value = serde_json::from_str(&out).unwrap();
    back["metadata"]["labels"]
        .as_object_mut()
        .unwrap()
        .remove("emit-test");
    assert_eq!(back, doc, "\n{yaml}");
}

#[test]
fn yaml_survives_pyyaml() {
    let script = "import sys, json, yaml\n\
                  print(json.dumps(list(yaml.safe_load_all(sys.stdin.read()))))";
    if !tool_available("python3", &["-c", "import yaml"]) {
        eprintln!("note: python3 with PyYAML not available, skipping this check");
        return;
    }
    let doc = tricky_doc();
    let other = json!({"apiVersion": "v1", "kind": "List", "items": tricky()});
    let yaml = stream(&[doc.clone(), other.clone()]);
    let out = run("python3", &["-c", script], &yaml);
    let back: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back, json!([doc, other]), "\n{yaml}");
}

#[test]
fn yaml_round_trips_through_yaml_serde() {
    let doc = tricky_doc();
    let yaml = stream(std::slice::from_ref(&doc));
    let back: Value = serde_yaml::from_str(&yaml).unwrap();
    assert_eq!(back, doc);
}

fn literal_cases() -> Vec<(&'static str, &'static str)> {
    vec![
        ("plain", "value"),
        ("unicode", "héllo wörld ☃ 日本語 😀"),
        ("html", "<a href=\"x\">&amp;</a>"),
        ("multi", "line one\nline two\n  indented\n"),
        ("quotes", "it's \"quoted\" \\ backslash"),
        ("tab", "a\tb"),
        ("seps", "\u{2028}\u{2029}"),
        ("empty", ""),
        ("number", "0123"),
        ("bool", "yes"),
    ]
}

/// Our hash functions must give exactly the suffixes `kubectl kustomize` produces.
#[test]
fn hashes_match_kubectl_kustomize() {
    if !have_kubectl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = literal_cases();
    // Literals are given as JSON strings (valid YAML double-quoted scalars).
    let lit = |(k, v): &(&str, &str)| {
        let quoted = json!(format!("{k}={v}"))
            .to_string()
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        format!("  - {quoted}\n")
    };
    let all: String = cases.iter().map(lit).collect();
    let first: String = cases[..2].iter().map(lit).collect();
    fs::write(dir.path().join("blob.bin"), [0u8, 159, 146, 150, 255, b'x']).unwrap();
    fs::write(dir.path().join("notes.txt"), "file\ncontent\n").unwrap();
    let kustomization = format!(
        "configMapGenerator:\n\
         - name: all\n  literals:\n{all}\
         - name: first\n  literals:\n{first}\
         - name: files\n  files:\n  - blob.bin\n  - notes.txt\n\
         - name: none\n\
         secretGenerator:\n\
         - name: sec\n  literals:\n{all}\
         - name: tls\n  type: kubernetes.io/tls\n  literals:\n  - tls.crt=CERT\n  - tls.key=KEY\n\
         - name: nosec\n"
    );
    fs::write(dir.path().join("kustomization.yaml"), &kustomization).unwrap();
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    for doc in text.split("\n---\n") {
        let obj: Value = serde_yaml::from_str(doc).unwrap();
        let name = obj["metadata"]["name"].as_str().unwrap();
        let (base, suffix) = name.rsplit_once('-').unwrap();
        let map = |field: &str| -> BTreeMap<String, String> {
            obj[field]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let ours = match obj["kind"].as_str().unwrap() {
            "ConfigMap" => configmap_hash(&map("data"), &map("binaryData")),
            "Secret" => secret_hash(obj["type"].as_str().unwrap(), &map("data")),
            other => panic!("unexpected kind {other}"),
        };
        assert_eq!(ours, suffix, "{base}:\n{doc}");
        seen += 1;
    }
    assert_eq!(seen, 7, "{text}");

    // And directly from the literal values, as `lower` will call it.
    let data: BTreeMap<String, String> = cases
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert!(text.contains(&format!(
        "name: all-{}",
        configmap_hash(&data, &BTreeMap::new())
    )));
    let b64: BTreeMap<String, String> = data
        .iter()
        .map(|(k, v)| {
            use base64::Engine;
            (
                k.clone(),
                base64::engine::general_purpose::STANDARD.encode(v),
            )
        })
        .collect();
    assert!(text.contains(&format!("name: sec-{}", secret_hash("Opaque", &b64))));
}

fn sample_manifests() -> Vec<Manifest> {
    vec![
        manifest(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})),
        manifest(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "shop"},
            "data": {"A": "yes", "B": "0123", "script": "#!/bin/sh\necho hi\n"}
        })),
        manifest(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}
        })),
        manifest(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{
                        "name": "web", "image": "nginx:1.25",
                        "args": ["--port", "8080"],
                        "env": [{"name": "DEBUG", "value": "on"}]
                    }]}
                }
            }
        })),
    ]
}

#[test]
fn kustomize_dir_builds_with_kubectl() {
    if !have_kubectl() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let ms = sample_manifests();
    write_atomic(
        &Target::Dir(dir.clone()),
        &render_files(&ms, Format::Kustomize).unwrap(),
    )
    .unwrap();
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut got: Vec<Value> = text
        .split("\n---\n")
        .map(|d| serde_yaml::from_str(d).unwrap())
        .collect();
    let mut want: Vec<Value> = ms.iter().map(|m| m.json()).collect();
    let key = |v: &Value| format!("{}/{}", v["kind"], v["metadata"]["name"]);
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(got, want);
}

fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let content = if e.path().is_dir() {
                "<dir>".to_string()
            } else {
                fs::read_to_string(e.path()).unwrap()
            };
            (name, content)
        })
        .collect();
    v.sort();
    v
}

fn files(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn dir_write_replaces_ours_and_keeps_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let target = Target::Dir(dir.clone());
    write_atomic(
        &target,
        &files(&[
            ("a-service.yaml", "apiVersion: v1\nkind: Service\n"),
            ("b-configmap.yaml", "apiVersion: v1\n"),
        ]),
    )
    .unwrap();
    // foreign things
    fs::write(dir.join("README.md"), "hello").unwrap();
    fs::write(dir.join("hand.yaml"), "# hand written\napiVersion: v1\n").unwrap();
    fs::create_dir(dir.join(".git")).unwrap();
    fs::write(dir.join(".git").join("HEAD"), "ref").unwrap();

    // second run: a changed, b gone, c new
    write_atomic(
        &target,
        &files(&[
            ("a-service.yaml", "apiVersion: v1\nkind: Service\nx: 1\n"),
            ("c-secret.yaml", "apiVersion: v1\n"),
        ]),
    )
    .unwrap();
    assert_eq!(
        listing(&dir),
        vec![
            (".git".to_string(), "<dir>".to_string()),
            ("README.md".to_string(), "hello".to_string()),
            (
                "a-service.yaml".to_string(),
                "apiVersion: v1\nkind: Service\nx: 1\n".to_string()
            ),
            ("c-secret.yaml".to_string(), "apiVersion: v1\n".to_string()),
            (
                "hand.yaml".to_string(),
                "# hand written\napiVersion: v1\n".to_string()
            ),
        ]
    );
    assert_eq!(fs::read_to_string(dir.join(".git/HEAD")).unwrap(), "ref");
    // no temporaries left beside the output
    assert_eq!(
        listing(tmp.path())
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["out"]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }
}

#[test]
fn dir_write_failure_leaves_old_content() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let target = Target::Dir(dir.clone());
    let old = files(&[("a-service.yaml", "apiVersion: v1\nold: true\n")]);
    write_atomic(&target, &old).unwrap();
    fs::write(dir.join("README.md"), "keep").unwrap();
    let before = listing(&dir);

    // Injected failure while building the new directory: `x` is both a file and a
    // directory.
    let err = write_atomic(
        &target,
        &files(&[
            ("a-service.yaml", "apiVersion: v1\nnew: true\n"),
            ("x", "file"),
            ("x/y.yaml", "nested"),
        ]),
    );
    assert!(err.is_err());
    assert_eq!(listing(&dir), before);

    // Unsafe relative paths are refused before anything happens.
    for bad in ["../escape.yaml", "/abs.yaml", "", "a/../../b"] {
        assert!(
            write_atomic(&target, &files(&[(bad, "x")])).is_err(),
            "{bad}"
        );
        assert_eq!(listing(&dir), before);
    }
    assert!(!tmp.path().join("escape.yaml").exists());
    assert_eq!(
        listing(tmp.path())
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["out"],
        "temporaries left behind"
    );

    // A file where the directory is expected: error, file untouched.
    let file = tmp.path().join("file");
    fs::write(&file, "I am a file").unwrap();
    assert!(write_atomic(&Target::Dir(file.clone()), &old).is_err());
    assert_eq!(fs::read_to_string(&file).unwrap(), "I am a file");
}

#[cfg(unix)]
#[test]
fn dir_write_read_only_parent_fails_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("ro");
    let dir = parent.join("out");
    let target = Target::Dir(dir.clone());
    write_atomic(
        &target,
        &files(&[("a-service.yaml", "apiVersion: v1\nold: 1\n")]),
    )
    .unwrap();
    let before = listing(&dir);
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(parent.join("probe"), "").is_ok() {
        eprintln!(
            "note: running with privileges that ignore directory permissions (root?), skipping"
        );
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let res = write_atomic(
        &target,
        &files(&[("a-service.yaml", "apiVersion: v1\nnew: 1\n")]),
    );
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o755)).unwrap();
    assert!(res.is_err());
    assert_eq!(listing(&dir), before);
}

#[test]
fn file_write_is_atomic_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sub").join("all.yaml");
    let target = Target::File(path.clone());
    write_atomic(&target, &files(&[("-", "a: 1\n"), ("-", "---\nb: 2\n")])).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "a: 1\n---\nb: 2\n");
    write_atomic(&target, &files(&[("-", "c: 3\n")])).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "c: 3\n");
    assert_eq!(listing(&tmp.path().join("sub")).len(), 1);
    // a directory where the file is expected: error, directory untouched
    let d = tmp.path().join("d");
    fs::create_dir(&d).unwrap();
    assert!(write_atomic(&Target::File(d.clone()), &files(&[("-", "x")])).is_err());
    assert!(d.is_dir());
}

#[test]
fn check_reports_stale_missing_extra_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let target = Target::Dir(dir.clone());

    // Nothing on disk: everything missing, nothing created.
    let want = files(&[("a-service.yaml", "apiVersion: v1\nx: 1\n")]);
    let o = check(&target, &want).unwrap();
    assert!(!o.is_up_to_date());
    assert_eq!(o.missing, ["a-service.yaml"]);
    assert!(
        o.diff.contains("--- /dev/null\n+++ b/a-service.yaml\n"),
        "{}",
        o.diff
    );
    assert!(!dir.exists());

    write_atomic(
        &target,
        &files(&[
            ("a-service.yaml", "apiVersion: v1\nx: 1\n"),
            ("old-configmap.yaml", "apiVersion: v1\n"),
        ]),
    )
    .unwrap();
    fs::write(dir.join("README.md"), "not ours").unwrap();
    let before = listing(&dir);

    let o = check(&target, &want).unwrap();
    assert_eq!(o.extra, ["old-configmap.yaml"]);
    assert!(o.stale.is_empty() && o.missing.is_empty());
    assert!(
        o.diff.contains("--- a/old-configmap.yaml\n+++ /dev/null\n"),
        "{}",
        o.diff
    );

    let changed = files(&[
        ("a-service.yaml", "apiVersion: v1\nx: 2\n"),
        ("old-configmap.yaml", "apiVersion: v1\n"),
    ]);
    let o = check(&target, &changed).unwrap();
    assert_eq!(o.stale, ["a-service.yaml"]);
    assert_eq!(
        o.diff,
        "--- a/a-service.yaml\n+++ b/a-service.yaml\n@@ -1,2 +1,2 @@\n apiVersion: v1\n-x: 1\n+x: 2\n"
    );

    let same = files(&[
        ("a-service.yaml", "apiVersion: v1\nx: 1\n"),
        ("old-configmap.yaml", "apiVersion: v1\n"),
    ]);
    let o = check(&target, &same).unwrap();
    assert!(o.is_up_to_date(), "{o:?}");
    assert_eq!(o.diff, "");
    assert_eq!(listing(&dir), before);

    // File target.
    let f = tmp.path().join("all.yaml");
    let o = check(&Target::File(f.clone()), &files(&[("-", "a: 1\n")])).unwrap();
    assert_eq!(o.missing.len(), 1);
    fs::write(&f, "a: 1\n").unwrap();
    assert!(check(&Target::File(f.clone()), &files(&[("-", "a: 1\n")]))
        .unwrap()
        .is_up_to_date());
    assert!(check(&Target::Stdout, &[]).is_err());
}

#[test]
fn stream_of_sample_is_stable() {
    let ms = sample_manifests();
    let a = render_stream(&ms).unwrap();
    assert_eq!(a, render_stream(&ms.clone()).unwrap());
    assert!(
        a.contains("  A: 'yes'\n  B: '0123'\n  script: |\n    #!/bin/sh\n    echo hi\n"),
        "{a}"
    );
    assert!(
        a.contains("        - name: DEBUG\n          value: 'on'\n"),
        "{a}"
    );
    assert_eq!(a.matches("\n---\n").count(), 3);
}
