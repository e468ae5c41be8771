//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) through the same entry points as the
//! fuzz targets: every file found by fuzzing, or seeded, must be answered without a panic.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).expect("readable");
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{target}: the corpus has its seeds");
    files
}

#[test]
fn every_spreadsheet_of_the_corpus_is_read_or_refused_within_bounds() {
    for (path, bytes) in corpus("spreadsheet") {
        eprintln!("{}", path.display());
        app::fuzzing::spreadsheet(&bytes);
    }
}

#[test]
fn every_qpv_file_of_the_corpus_is_read_or_refused() {
    for (path, bytes) in corpus("qpv_files") {
        eprintln!("{}", path.display());
        app::fuzzing::qpv_files(&bytes);
    }
}

#[test]
fn every_ban_file_of_the_corpus_is_read_or_refused() {
    for (path, bytes) in corpus("ban_file") {
        eprintln!("{}", path.display());
        app::fuzzing::ban_file(&bytes);
    }
}

#[test]
fn every_data_inclusion_file_of_the_corpus_is_read_or_refused() {
    for (path, bytes) in corpus("data_inclusion") {
        eprintln!("{}", path.display());
        app::fuzzing::data_inclusion(&bytes);
    }
}
