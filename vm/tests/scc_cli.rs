//! `chenilles-scc` as a user meets it: compile, check, disassemble and assemble, and the images it
//! writes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::text;

use chenilles_compiler::bytecode::{FORMAT_VERSION, Image, OLDEST_READABLE_VERSION, image_hash};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cli")
}

fn scc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chenilles-scc"))
        .args(args)
        .current_dir(fixtures())
        .output()
        .expect("chenilles-scc starts")
}

/// A path named `name` in a scratch directory of this test process's own, made once with a
/// unique name (a static is never dropped, so the directory stays behind, as a few small files),
/// never a fixed name in the shared temporary directory that parallel runs would both use.
fn scratch(name: &str) -> PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("temp dir")).path().join(name)
}

#[test]
fn compile_writes_an_image_and_prints_its_blake3_hash() {
    let output = scratch("disasm.chb");
    let out = scc(&["compile", "disasm.scm", "-o", output.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bytes = std::fs::read(&output).expect("the image was written");
    let printed = text(&out.stdout);
    assert!(printed.starts_with(&image_hash(&bytes).to_string()), "{printed}");
    let image = Image::from_bytes(&bytes).expect("the image reads back");
    assert_eq!(image.name, "disasm.scm");
}

#[test]
fn disassembly_shows_instructions_operands_and_source_positions() {
    let out = scc(&["disasm", "disasm.scm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn check_reports_errors_only() {
    let ok = scc(&["check", "disasm.scm"]);
    assert_eq!((ok.status.code(), text(&ok.stdout), text(&ok.stderr)), (Some(0), String::new(), String::new()));
    let bad = scc(&["check", "syntax-error.scm"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("syntax-error.scm:4:1"), "{}", text(&bad.stderr));
}

#[test]
fn malformed_images_are_refused_with_a_clear_error() {
    let good = empty_image().to_bytes();
    let with_version = |version: u32| {
        let mut bytes = good.clone();
        bytes[8..12].copy_from_slice(&version.to_le_bytes());
        bytes
    };
    let newer = format!("format version {} is not supported", FORMAT_VERSION + 1);
    let older = format!("format version {} is not supported", OLDEST_READABLE_VERSION - 1);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.chb", vec![], "only 0 bytes long"),
        ("text.chb", b"(display 1) ; not an image at all".to_vec(), "magic bytes"),
        ("version.chb", with_version(FORMAT_VERSION + 1), &newer),
        ("old-version.chb", with_version(OLDEST_READABLE_VERSION - 1), &older),
        // An older version still read: this image fails later, for its own reason.
        ("version-3.chb", with_version(OLDEST_READABLE_VERSION), "entry function 0 does not exist"),
        ("truncated.chb", good[..good.len() - 3].to_vec(), "malformed image"),
        ("no-entry.chb", good.clone(), "entry function 0 does not exist"),
    ];
    for (name, bytes, expected) in cases {
        let path = scratch(name);
        std::fs::write(&path, bytes).expect("scratch file");
        let out = scc(&["disasm", path.to_str().expect("utf-8 path")]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(text(&out.stderr).contains(expected), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn asm_reads_back_what_disasm_assembly_prints() {
    let compiled = scratch("round-trip.chb");
    let out = scc(&["compile", "disasm.scm", "-o", compiled.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = scc(&["disasm", "--assembly", compiled.to_str().expect("utf-8 path")]);
    assert_eq!((listing.status.code(), text(&listing.stderr)), (Some(0), String::new()));
    // The source, compiled in memory, prints the same text as its image.
    let from_source = scc(&["disasm", "--assembly", "disasm.scm"]);
    assert_eq!(text(&from_source.stdout), text(&listing.stdout));
    let source = scratch("round-trip.s");
    std::fs::write(&source, &listing.stdout).expect("scratch file");
    let assembled = scratch("round-trip-again.chb");
    let out = scc(&["asm", source.to_str().expect("utf-8 path"), "-o", assembled.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bytes = std::fs::read(&assembled).expect("the image was written");
    assert!(text(&out.stdout).starts_with(&image_hash(&bytes).to_string()), "{}", text(&out.stdout));
    assert_eq!(bytes, std::fs::read(&compiled).expect("the compiled image"), "the images differ");
}

#[test]
fn asm_refuses_bad_text_and_code_that_does_not_verify() {
    let head = ".image \"t\"\n.entry 0\n.function 0 \"main\" required 0 optional 0 rest no locals 0 free 0\n";
    let cases = [
        ("syntax.s", format!("{head}Const 0 0\nReturn\n"), "syntax.s: line 4: `Const` takes 1 operand(s) (k), not 2"),
        ("unknown.s", format!("{head}Frobnicate\n"), "unknown.s: line 4: unknown instruction `Frobnicate`"),
        (
            "verify.s",
            format!("{head}Const 5\nReturn\n"),
            "verify.s: the assembled image does not verify: function 0 (main): instruction 0 (Const 5): Const operand 5 is out of range",
        ),
    ];
    for (name, source, expected) in cases {
        let path = scratch(name);
        std::fs::write(&path, source).expect("scratch file");
        let output = path.with_extension("chb");
        let out = scc(&["asm", path.to_str().expect("utf-8 path")]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(text(&out.stderr).contains(expected), "{name}: {}", text(&out.stderr));
        assert!(!output.exists(), "{name}: an image was written");
    }
    let good = scratch("good.s");
    std::fs::write(&good, format!("{head}Const 0\nReturn\n.const 0 fixnum 7\n")).expect("scratch file");
    let out = scc(&["asm", good.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(good.with_extension("chb").exists(), "the default output is the source with extension .chb");
}

#[test]
fn disasm_assembly_prints_images_that_do_not_verify_with_a_warning() {
    let no_entry = empty_image();
    let path = scratch("no-entry-assembly.chb");
    std::fs::write(&path, no_entry.to_bytes()).expect("scratch file");
    let out = scc(&["disasm", "--assembly", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains(".image \"t\"\n.entry 0\n"), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("warning:") && text(&out.stderr).contains("entry function 0 does not exist"));
}

#[test]
fn every_command_has_help() {
    for args in
        [&["--help"][..], &["compile", "--help"], &["check", "--help"], &["disasm", "--help"], &["asm", "--help"]]
    {
        let out = scc(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
    }
}

/// An image with nothing in it (not even its entry function: it does not verify).
fn empty_image() -> Image {
    Image {
        name: "t".into(),
        files: vec![],
        constants: vec![],
        globals: vec![],
        functions: vec![],
        entry: 0,
        libraries: vec![],
    }
}
