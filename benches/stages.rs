//! Per-stage timing of one compile, in process, and the floor we cannot beat: parsing
//! the same input into a generic YAML value plus serialising our finished objects with
//! the YAML crate we depend on (yaml_serde). Stage times are medians of repeated runs
//! in one process; the first run (which pays one-off set-up such as compiling the
//! schema validator) is reported on its own, and a counting allocator gives the heap
//! after each stage. Run through `scripts/bench.sh`, or
//! `cargo bench --bench stages -- path/to/compose.yaml`.
#![allow(clippy::print_stdout)]

use compose2k8s::lower::{lower, Options};
use compose2k8s::{emit, load, LoadOptions};
use std::alloc::{GlobalAlloc, Layout};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes, and the most ever live, so that stages can be weighed in
/// memory as well as time. Allocates with mimalloc, like the binary.
struct Counting;

static INNER: mimalloc::MiMalloc = mimalloc::MiMalloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { INNER.alloc(l) };
        if !p.is_null() {
            let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { INNER.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = unsafe { INNER.realloc(p, l, new) };
        if !q.is_null() {
            if new >= l.size() {
                let now = LIVE.fetch_add(new - l.size(), Ordering::Relaxed) + new - l.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(l.size() - new, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mb(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

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
    // The first compile in a process (as the CLI runs it, one-off set-up included),
    // also measured for memory: live heap after each stage and the peak.
    let (cold, heap_load, heap_lower, heap_peak) = {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let t = Instant::now();
        let loaded = load(&opts);
        let after_load = LIVE.load(Ordering::Relaxed) - base;
        let project = loaded.project.expect("project loads");
        let lowered = lower(&project, &lopts);
        let after_lower = LIVE.load(Ordering::Relaxed) - base;
        let out = emit::render_stream_parts(&lowered.manifests).expect("renders");
        let cold = t.elapsed();
        std::hint::black_box(&out);
        (
            cold,
            after_load,
            after_lower,
            PEAK.load(Ordering::Relaxed) - base,
        )
    };
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
        let out = emit::render_stream_parts(&lowered.manifests).expect("renders");
        t_emit.push(t.elapsed());
        out_len = out.iter().map(String::len).sum();

        let t = Instant::now();
        let v: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
        let mut floor_out = String::with_capacity(out_len);
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
    println!(
        "  first compile in a process {:.2} ms | heap: {:.1} MB live after load, {:.1} MB after lower, {:.1} MB peak",
        ms(cold),
        mb(heap_load),
        mb(heap_lower),
        mb(heap_peak)
    );
}
