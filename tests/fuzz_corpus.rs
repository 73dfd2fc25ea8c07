//! The fuzz targets' entry points (src/fuzzing.rs) on stable: every seed of fuzz/corpus, and
//! a few hundred cheap mutations of each (cuts, flipped and inserted bytes, from a fixed
//! seed), so CI runs what the fuzzer runs for hours. A panic is a bug found.
use rand::{Rng, SeedableRng};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    seeds.sort();
    seeds
}

/// Damaged copies of a seed: every cut at a few points, random byte flips and insertions of
/// bytes that parsers treat specially.
fn mutations(seed: &[u8], rng: &mut rand::rngs::StdRng) -> Vec<Vec<u8>> {
    const SPECIAL: &[u8] = b"\0\r\n\t :;,.-_<>&=\"'\\/@+\xd0\xff\x80";
    let mut out = Vec::new();
    for i in 1..8 {
        out.push(seed[..seed.len() * i / 8].to_vec());
    }
    for _ in 0..24 {
        let mut m = seed.to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..=m.len());
            match rng.gen_range(0..3) {
                0 if at < m.len() => m[at] ^= 1 << rng.gen_range(0..8),
                1 => m.insert(at, SPECIAL[rng.gen_range(0..SPECIAL.len())]),
                _ if at < m.len() => {
                    m.remove(at);
                }
                _ => m.push(rng.gen()),
            }
        }
        out.push(m);
    }
    out
}

#[test]
fn every_fuzz_target_survives_its_corpus_and_mutations_of_it() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for (target, entry) in uchbot::fuzzing::TARGETS {
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "fuzz/corpus/{target} has seeds");
        // The example catalog is large: its mutations are few but still exercised.
        for (name, seed) in seeds {
            entry(&seed);
            let mutants = mutations(&seed, &mut rng);
            let take = if seed.len() > 20_000 {
                4
            } else {
                mutants.len()
            };
            for mutant in mutants.into_iter().take(take) {
                let result = std::panic::catch_unwind(|| entry(&mutant));
                assert!(
                    result.is_ok(),
                    "{target}/{name} mutated: {:?}",
                    String::from_utf8_lossy(&mutant)
                );
            }
        }
    }
}

#[test]
fn every_fuzz_target_has_a_cargo_fuzz_binary() {
    let manifest = include_str!("../fuzz/Cargo.toml");
    for (target, _) in uchbot::fuzzing::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "{target}"
        );
        let source = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fuzz/fuzz_targets/{target}.rs")),
        )
        .unwrap();
        assert!(
            source.contains(&format!("uchbot::fuzzing::{target}(")),
            "{target}"
        );
    }
}
