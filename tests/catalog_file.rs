use std::path::Path;
use uchbot::catalog::load_catalog;

#[test]
fn example_loads() {
    let c =
        load_catalog(Path::new("dialogues/catalog.example.toml")).unwrap_or_else(|e| panic!("{e}"));
    println!("{}", c.courses.len());
}
