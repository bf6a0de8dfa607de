//! Every target over every file of its seed corpus (`corpus/<target>/`) and of its found
//! crashes (`regressions/<target>/`): what the fuzzer once broke stays fixed, and the seeds,
//! real-shaped inputs, pass the targets' checks in every build.

use std::path::{Path, PathBuf};

use ai_interviewer_fuzz::TARGETS;

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_passes_its_seeds_and_its_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, target) in TARGETS {
        let seeds = files(&root.join("corpus").join(name));
        assert!(!seeds.is_empty(), "{name} has no seed corpus");
        for file in seeds
            .iter()
            .chain(&files(&root.join("regressions").join(name)))
        {
            let bytes = std::fs::read(file).expect("a readable corpus file");
            eprintln!("{name}: {}", file.display());
            target(&bytes);
        }
    }
}

#[test]
fn every_target_has_its_binary_and_nothing_else_is_in_the_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["corpus", "regressions", "fuzz_targets"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            // No crash found yet: no `regressions/`.
            continue;
        };
        for entry in entries {
            let path = entry.expect("an entry").path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            assert!(
                TARGETS.iter().any(|(name, _)| *name == stem),
                "{} names no target",
                path.display()
            );
        }
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("the manifest");
    for (name, _) in TARGETS {
        assert!(
            root.join(format!("fuzz_targets/{name}.rs")).is_file(),
            "{name} has no binary"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not a [[bin]] of the manifest"
        );
    }
}
