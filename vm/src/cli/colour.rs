//! Whether diagnostics on stderr are coloured: only on a terminal, never under `NO_COLOR` or a
//! `dumb` terminal (so pipes, files and tests see plain text). Shared by both binaries.

use std::io::IsTerminal;

/// Whether what is written to stderr may carry ANSI colours.
pub fn stderr_wants_colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
    !no_color && !dumb && std::io::stderr().is_terminal()
}

/// Prints the warnings of the compiler's last units on stderr, rendered rustc-style.
pub fn print_warnings(compiler: &chenilles_compiler::Compiler) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    for warning in &compiler.warnings {
        let _ = stderr.write_all(compiler.render_warning(warning).as_bytes());
    }
}
