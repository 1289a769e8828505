//! What the compiler's data-driven snapshot tests share: each `tests/DIR/NAME.scm` case rendered
//! and compared with its insta snapshot `snapshots/TEST__NAME.snap`.

use std::path::{Path, PathBuf};

/// The `.scm` cases of `tests/DIR`, sorted; fails when there are none.
fn cases(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join(dir);
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "scm"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no cases in {}", dir.display());
    cases
}

/// Renders every case of `tests/DIR` with `render` and checks it against its snapshot, named
/// after the case (`INSTA_UPDATE=always` rewrites them; read the diff).
pub fn each_case_matches_its_snapshot(dir: &str, render: impl Fn(&Path) -> String) {
    for case in cases(dir) {
        let name = case.file_stem().and_then(|s| s.to_str()).unwrap_or("case").to_string();
        // Named and placed as the test file's own assertion would be: `tests/snapshots/DIR__NAME.snap`.
        insta::with_settings!({ input_file => &case, prepend_module_to_snapshot => false, snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!(format!("{dir}__{name}"), render(&case));
        });
    }
}
