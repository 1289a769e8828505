//! Compiles the standard library — each `stdlib-scm/*.scm` file except the prelude of macros, which the
//! compiler embeds itself — into an image the VM embeds, so nothing is read from disk when it starts.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../stdlib-scm");
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("stdlib-scm/ is readable")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "scm") && !path.ends_with("syntax.scm"))
        .collect();
    files.sort();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut table = String::from("const STDLIB_IMAGES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
        let name = format!("stdlib-scm/{}", file.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
        let source = std::fs::read_to_string(file).expect("a stdlib file is readable");
        let mut compiler = chenilles_compiler::Compiler::new();
        let image = match compiler.compile_source(&name, &source) {
            Ok(image) => image,
            Err(error) => panic!("the standard library does not compile:\n{}", compiler.render(&error)),
        };
        let stem = file.file_stem().and_then(|n| n.to_str()).unwrap_or("lib");
        let path = out_dir.join(format!("{stem}.chb"));
        std::fs::write(&path, image.to_bytes()).expect("OUT_DIR is writable");
        let _ = writeln!(table, "    ({name:?}, include_bytes!({:?})),", path.display().to_string());
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("stdlib_images.rs"), table).expect("OUT_DIR is writable");
}
