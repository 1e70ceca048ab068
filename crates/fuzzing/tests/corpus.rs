//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`: the seeds, and every input that
//! once found a bug) through the entry points the cargo-fuzz targets call, so that a plain
//! `cargo test` exercises the harness and guards each fixed bug.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_binary() {
    let mut dirs: Vec<String> = std::fs::read_dir(fuzz_dir().join("corpus"))
        .expect("fuzz/corpus exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut names: Vec<String> = marque_fuzzing::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    names.sort();
    assert_eq!(dirs, names, "fuzz/corpus/ has one directory per target");
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for name in &names {
        let source = fuzz_dir().join(format!("fuzz_targets/{name}.rs"));
        let text = std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert!(
            text.contains(&format!("marque_fuzzing::{name}(")),
            "{source:?}"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} in fuzz/Cargo.toml"
        );
    }
}

#[test]
fn the_corpus_replays_without_a_failure() {
    let mut total = 0;
    for (name, target) in marque_fuzzing::TARGETS {
        let dir = fuzz_dir().join("corpus").join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir:?}: {e}"))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(
            files.len() >= 10,
            "{name}: {} seeds, want at least 10",
            files.len()
        );
        for f in &files {
            let data = std::fs::read(f).unwrap();
            // A failure names the file: the panic message alone does not.
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {f:?} fails");
        }
        total += files.len();
    }
    eprintln!("replayed {total} corpus files");
}
