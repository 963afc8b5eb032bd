//! Per-stage timing of one compile, in process, and the floor we cannot beat: parsing
//! the same input into a generic YAML value plus serialising our finished objects with
//! the YAML crate we depend on (yaml_serde). Run through `scripts/bench.sh`, or
//! `cargo bench --bench stages -- path/to/compose.yaml`.
#![allow(clippy::print_stdout)]

use compose2k8s::lower::{lower, Options};
use compose2k8s::{emit, load, LoadOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        println!("usage: cargo bench --bench stages -- COMPOSE_FILE");
        return;
    };
    let path = PathBuf::from(path);
    let cwd = path.parent().map(PathBuf::from).unwrap_or_default();
    let text = std::fs::read_to_string(&path).expect("compose file");
    let opts = LoadOptions {
        files: vec![path.to_string_lossy().into_owned()],
        interpolate: true,
        cwd,
        env: BTreeMap::new(),
        ..LoadOptions::default()
    };
    let lopts = Options::default();
    let runs = if text.len() > 2_000_000 { 5 } else { 21 };
    let (mut t_load, mut t_lower, mut t_emit, mut t_floor) = (vec![], vec![], vec![], vec![]);
    let mut out_len = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let loaded = load(&opts);
        t_load.push(t.elapsed());
        let project = loaded.project.expect("project loads");
        let t = Instant::now();
        let lowered = lower(&project, &lopts);
        t_lower.push(t.elapsed());
        let t = Instant::now();
        let out = emit::render_stream(&lowered.manifests);
        t_emit.push(t.elapsed());
        out_len = out.len();

        let t = Instant::now();
        let v: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
        let mut floor_out = String::with_capacity(out.len());
        for m in &lowered.manifests {
            floor_out.push_str("---\n");
            floor_out.push_str(&serde_yaml::to_string(&m.body).expect("serialise"));
        }
        t_floor.push(t.elapsed());
        std::hint::black_box((v, floor_out));
    }
    let (l, w, e, f) = (
        median(t_load),
        median(t_lower),
        median(t_emit),
        median(t_floor),
    );
    let ours = l + w + e;
    println!(
        "{}: in {} B, out {} B | load {:.2} ms, lower {:.2} ms, emit {:.2} ms, total {:.2} ms | floor {:.2} ms | ratio {:.2}",
        path.display(),
        text.len(),
        out_len,
        ms(l),
        ms(w),
        ms(e),
        ms(ours),
        ms(f),
        ours.as_secs_f64() / f.as_secs_f64()
    );
}
