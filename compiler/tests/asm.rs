//! The assembler round-trips: an image the compiler makes, written as assembly text and assembled
//! again, is the same image, byte for byte — for random programs and for every Scheme file in the
//! repository that compiles. And no text, however mangled, makes the assembler panic.

use std::path::{Path, PathBuf};

use chenilles_compiler::Compiler;
use chenilles_compiler::bytecode::{Constant, Image, assemble, write_assembly};
use chenilles_reader::{Datum, DatumKind, Number, Span};
use num_bigint::BigInt;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Whether two images are equal, reals compared by their bits (so a NaN equals itself).
fn same_image(a: &Image, b: &Image) -> bool {
    let same_constants = a.constants.len() == b.constants.len()
        && a.constants.iter().zip(&b.constants).all(|pair| match pair {
            (Constant::Real(x), Constant::Real(y)) => x.to_bits() == y.to_bits(),
            (x, y) => x == y,
        });
    let without_constants = |image: &Image| Image { constants: Vec::new(), ..image.clone() };
    same_constants && without_constants(a) == without_constants(b)
}

/// Checks `assemble(write_assembly(image)) == image`, bit for bit.
fn check_round_trip(image: &Image) -> Result<(), TestCaseError> {
    let text = write_assembly(image);
    let again = assemble(&text)
        .map_err(|error| TestCaseError::fail(format!("the assembly does not assemble: {error}\n{text}")))?;
    if !image.constants.iter().any(|c| matches!(c, Constant::Real(x) if x.is_nan())) {
        prop_assert_eq!(&again, image, "{}", text);
    }
    prop_assert!(same_image(&again, image), "{}", text);
    prop_assert!(again.to_bytes() == image.to_bytes(), "the image files differ\n{}", text);
    prop_assert_eq!(write_assembly(&again), text);
    Ok(())
}

/// Compiles `source` as the file `name`, with the library path `dirs`; returns the image and the
/// images of the libraries it uses.
fn compile(name: &str, source: &str, dirs: Vec<PathBuf>) -> Option<Vec<Image>> {
    let mut compiler = Compiler::new();
    compiler.library_path = dirs;
    let image = compiler.compile_source(name, source).ok()?;
    let mut images: Vec<Image> =
        image.libraries.iter().filter_map(|library| compiler.library_image(&library.hash).cloned()).collect();
    images.push(image);
    Some(images)
}

/// Runs `f` on a thread with a large stack, as `chenilles-scc` compiles (deeply nested source is
/// compiled recursively).
fn with_big_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .expect("a thread starts")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------------------
// Random programs

fn d(kind: DatumKind) -> Datum {
    Datum::new(kind, Span::default())
}

fn integer() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        (-1000i64..1000).prop_map(BigInt::from),
        any::<i64>().prop_map(BigInt::from),
        (any::<bool>(), "[1-9][0-9]{18,50}").prop_map(|(negative, digits)| {
            let n: BigInt = digits.parse().expect("digits");
            if negative { -n } else { n }
        }),
    ]
}

fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        (-1e6f64..1e6),
    ]
}

/// Text with the characters that need escaping, in the assembly or in Scheme.
fn odd_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,6}",
        "[ -~λé\n\t\r\\\\\"\u{0}\u{7f}\u{85}\u{a0}\u{200b}\u{202e}\u{2028}\u{feff};\\[\\]]{0,12}",
        any::<String>(),
    ]
}

fn leaf_datum() -> impl Strategy<Value = DatumKind> {
    prop_oneof![
        any::<bool>().prop_map(DatumKind::Boolean),
        integer().prop_map(|n| DatumKind::Number(Number::Integer(n))),
        (integer(), 2u32..1000).prop_map(|(n, den)| {
            // The reader reduces ratios; the text only needs to be one.
            DatumKind::Number(Number::Rational(n, BigInt::from(den)))
        }),
        real().prop_map(|x| DatumKind::Number(Number::Real(x))),
        any::<char>().prop_map(DatumKind::Character),
        odd_text().prop_map(DatumKind::String),
        prop_oneof!["[a-z][a-z0-9?!-]{0,6}", odd_text()].prop_map(DatumKind::Symbol),
        vec(any::<u8>(), 0..6).prop_map(DatumKind::Bytevector),
        select(vec!["eof", "default"]).prop_map(|name| DatumKind::Special(name.to_string())),
    ]
}

/// Quoted data: leaves, lists (proper and dotted) and vectors.
fn datum() -> impl Strategy<Value = Datum> {
    leaf_datum().prop_map(d).prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|items| d(DatumKind::List { items, tail: None })),
            (vec(inner.clone(), 1..3), leaf_datum()).prop_map(|(items, tail)| {
                let tail = match tail {
                    DatumKind::List { .. } => None,
                    kind => Some(Box::new(d(kind))),
                };
                d(DatumKind::List { items, tail })
            }),
            vec(inner, 0..4).prop_map(|items| d(DatumKind::Vector(items))),
        ]
    })
}

/// A Scheme expression; variables are indices, resolved against what is in scope when printed.
#[derive(Clone, Debug)]
enum Expr {
    Quote(Datum),
    Var(usize),
    Set(usize, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Let(Vec<Expr>, Box<Expr>),
    NamedLet(Vec<Expr>, Box<Expr>),
    /// Parameter count, rest list, internal definitions (each a lambda over one parameter), body.
    Lambda(usize, bool, Vec<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    Apply(&'static str, Vec<Expr>),
    Begin(Vec<Expr>),
}

const PROCEDURES: &[&str] = &[
    "+",
    "-",
    "*",
    "<",
    "=",
    ">=",
    "car",
    "cdr",
    "cons",
    "vector",
    "vector-ref",
    "not",
    "eq?",
    "null?",
    "pair?",
    "zero?",
    "list",
    "display",
    "string-append",
    "and",
    "or",
    "when",
    "unless",
    "cond-test",
];

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![datum().prop_map(Expr::Quote), (0usize..8).prop_map(Expr::Var)];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let some = || vec(inner.clone(), 0..4);
        prop_oneof![
            ((0usize..8), inner.clone()).prop_map(|(v, e)| Expr::Set(v, Box::new(e))),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| Expr::If(
                Box::new(a),
                Box::new(b),
                Box::new(c)
            )),
            (some(), inner.clone()).prop_map(|(inits, body)| Expr::Let(inits, Box::new(body))),
            (some(), inner.clone()).prop_map(|(inits, body)| Expr::NamedLet(inits, Box::new(body))),
            ((0usize..4), any::<bool>(), vec(inner.clone(), 0..2), inner.clone())
                .prop_map(|(n, rest, defines, body)| Expr::Lambda(n, rest, defines, Box::new(body))),
            (inner.clone(), some()).prop_map(|(f, args)| Expr::Call(Box::new(f), args)),
            (select(PROCEDURES), some()).prop_map(|(name, args)| Expr::Apply(name, args)),
            vec(inner, 1..4).prop_map(Expr::Begin),
        ]
    })
}

/// A program: top-level definitions (of globals `g0`...) and expressions.
#[derive(Clone, Debug)]
struct Program {
    definitions: Vec<Expr>,
    body: Vec<Expr>,
}

fn program() -> impl Strategy<Value = Program> {
    (vec(expr(), 0..4), vec(expr(), 0..4)).prop_map(|(definitions, body)| Program { definitions, body })
}

/// Prints expressions as Scheme, giving each binding a fresh name.
#[derive(Default)]
struct Printer {
    scope: Vec<String>,
    fresh: usize,
    globals: usize,
}

impl Printer {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn variable(&self, index: usize) -> String {
        if self.scope.is_empty() {
            format!("g{}", index % self.globals.max(1))
        } else {
            self.scope[self.scope.len() - 1 - index % self.scope.len()].clone()
        }
    }

    fn program(&mut self, program: &Program) -> String {
        self.globals = program.definitions.len();
        let mut text = String::new();
        for (i, definition) in program.definitions.iter().enumerate() {
            text.push_str(&format!("(define g{i} {})\n", self.expr(definition)));
        }
        for expr in &program.body {
            text.push_str(&self.expr(expr));
            text.push('\n');
        }
        text
    }

    /// `body` with `names` in scope.
    fn within(&mut self, names: &[String], body: impl FnOnce(&mut Printer) -> String) -> String {
        let depth = self.scope.len();
        self.scope.extend(names.iter().cloned());
        let text = body(self);
        self.scope.truncate(depth);
        text
    }

    fn exprs(&mut self, exprs: &[Expr]) -> String {
        exprs.iter().map(|e| format!(" {}", self.expr(e))).collect()
    }

    fn expr(&mut self, expr: &Expr) -> String {
        match expr {
            Expr::Quote(datum) => match &datum.kind {
                DatumKind::Number(_) | DatumKind::String(_) | DatumKind::Character(_) | DatumKind::Boolean(_) => {
                    datum.to_string()
                }
                _ => format!("(quote {datum})"),
            },
            Expr::Var(index) => self.variable(*index),
            Expr::Set(index, value) => {
                let value = self.expr(value);
                format!("(set! {} {value})", self.variable(*index))
            }
            Expr::If(test, then, otherwise) => {
                format!("(if {} {} {})", self.expr(test), self.expr(then), self.expr(otherwise))
            }
            Expr::Let(inits, body) => {
                let names: Vec<String> = inits.iter().map(|_| self.name("v")).collect();
                let bindings: String =
                    names.iter().zip(inits).map(|(name, init)| format!("({name} {})", self.expr(init))).collect();
                let body = self.within(&names, |p| p.expr(body));
                format!("(let ({bindings}) {body})")
            }
            Expr::NamedLet(inits, body) => {
                let names: Vec<String> = inits.iter().map(|_| self.name("v")).collect();
                let bindings: String =
                    names.iter().zip(inits).map(|(name, init)| format!("({name} {})", self.expr(init))).collect();
                let label = self.name("loop");
                let mut inner = names.clone();
                inner.push(label.clone());
                let body = self.within(&inner, |p| p.expr(body));
                format!("(let {label} ({bindings}) {body})")
            }
            Expr::Lambda(count, rest, defines, body) => {
                let mut params: Vec<String> = (0..*count).map(|_| self.name("a")).collect();
                let rest = rest.then(|| self.name("r"));
                let list = match (&rest, params.is_empty()) {
                    (Some(r), true) => r.clone(),
                    (Some(r), false) => format!("({} . {r})", params.join(" ")),
                    (None, _) => format!("({})", params.join(" ")),
                };
                params.extend(rest);
                let defined: Vec<String> = defines.iter().map(|_| self.name("f")).collect();
                params.extend(defined.iter().cloned());
                self.within(&params, |p| {
                    let mut text = format!("(lambda {list}");
                    for (name, define) in defined.iter().zip(defines) {
                        let x = p.name("x");
                        let value = p.within(std::slice::from_ref(&x), |p| p.expr(define));
                        text.push_str(&format!(" (define ({name} {x}) {value})"));
                    }
                    text.push_str(&format!(" {})", p.expr(body)));
                    text
                })
            }
            Expr::Call(f, args) => format!("({}{})", self.expr(f), self.exprs(args)),
            Expr::Apply("cond-test", args) => {
                let clauses: String = args.iter().map(|a| format!(" ({} 1)", self.expr(a))).collect();
                format!("(cond{clauses} (else 0))")
            }
            Expr::Apply(name @ ("when" | "unless"), args) => {
                // Both need at least one expression after the test.
                format!("({name} #t 0{})", self.exprs(args))
            }
            Expr::Apply(name, args) => format!("({name}{})", self.exprs(args)),
            Expr::Begin(exprs) => format!("(begin{})", self.exprs(exprs)),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn compiled_random_programs_round_trip_through_assembly(program in program()) {
        let source = Printer::default().program(&program);
        let images = with_big_stack({
            let source = source.clone();
            move || compile("random.scm", &source, Vec::new())
        });
        let images = images.ok_or_else(|| TestCaseError::fail(format!("does not compile:\n{source}")))?;
        for image in &images {
            check_round_trip(image)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// Every Scheme file in the repository

fn scheme_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scheme_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "scm") {
            out.push(path);
        }
    }
}

#[test]
fn every_scheme_file_that_compiles_round_trips_through_assembly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["tests/programs", "stdlib-scm", "examples-scm"] {
        scheme_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {} Scheme files under {}", files.len(), root.display());
    let (compiled, total) = with_big_stack(move || {
        let mut compiled = 0;
        for path in &files {
            let Ok(source) = std::fs::read_to_string(path) else {
                continue;
            };
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let Some(images) = compile(&path.display().to_string(), &source, vec![dir]) else {
                continue;
            };
            compiled += 1;
            for image in &images {
                if let Err(error) = check_round_trip(image) {
                    panic!("{}: {error}", path.display());
                }
            }
        }
        (compiled, files.len())
    });
    assert!(compiled * 2 > total, "only {compiled} of {total} Scheme files compiled");
}

// ---------------------------------------------------------------------------------------------------
// Mangled text

/// Assembly text of a program with most kinds of constants and instructions.
fn sample_assembly() -> String {
    let source = r#"
        (define (f x #!optional y . rest) (if (< x 1) (cons y rest) (f (- x 1) 'sym "s\"t" #\λ)))
        (define v '#(1 2.5 -0.0 +nan.0 123456789012345678901234567890 1/3 (a . b) #u8(1 2)))
        (let loop ((i 0)) (when (< i 3) (set! v (vector-ref v 0)) (loop (+ i 1))))
        (display (f 3))
    "#;
    let images = with_big_stack(move || compile("sample.scm", source, Vec::new()));
    let image = images.and_then(|mut images| images.pop()).expect("the sample compiles");
    write_assembly(&image)
}

/// One change to a text.
#[derive(Clone, Debug)]
enum Mutation {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    DeleteChar(usize),
    ReplaceChar(usize, char),
    InsertText(usize, String),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let fragment = prop_oneof![
        select(vec![
            "[",
            "]",
            "\"",
            "\\",
            "\\u{",
            "\\u{110000}",
            ";",
            ":",
            "0x",
            "-",
            "4294967296",
            "18446744073709551616",
            ".function",
            ".const",
            ".pos",
            ".code",
            "Const",
            "MakeClosure",
            "tail",
            "bytes",
            " ",
            "\n",
            "é",
        ])
        .prop_map(str::to_string),
        any::<String>(),
    ];
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        any::<usize>().prop_map(Mutation::DeleteChar),
        (any::<usize>(), any::<char>()).prop_map(|(at, c)| Mutation::ReplaceChar(at, c)),
        (any::<usize>(), fragment).prop_map(|(at, text)| Mutation::InsertText(at, text)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    let mut chars: Vec<char> = text.chars().collect();
    let line = |i: usize| i % lines.len().max(1);
    let char_at = |i: usize| i % chars.len().max(1);
    match mutation {
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(line(*i));
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let at = line(*i);
            lines.insert(at, lines[at]);
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => {
            let (a, b) = (line(*a), line(*b));
            lines.swap(a, b);
        }
        Mutation::DeleteChar(i) if !chars.is_empty() => {
            chars.remove(char_at(*i));
            return chars.into_iter().collect();
        }
        Mutation::ReplaceChar(i, c) if !chars.is_empty() => {
            let at = char_at(*i);
            chars[at] = *c;
            return chars.into_iter().collect();
        }
        Mutation::InsertText(i, fragment) => {
            let at = i % (chars.len() + 1);
            chars.splice(at..at, fragment.chars());
            return chars.into_iter().collect();
        }
        Mutation::Truncate(i) => {
            chars.truncate(i % (chars.len() + 1));
            return chars.into_iter().collect();
        }
        _ => {}
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// Whatever the changes, assembling does not panic; and whatever assembles round-trips.
    #[test]
    fn mangled_assembly_never_makes_the_assembler_panic(mutations in vec(mutation(), 1..6)) {
        thread_local! {
            static SAMPLE: String = sample_assembly();
        }
        let text = SAMPLE.with(|sample| mutations.iter().fold(sample.clone(), |text, m| apply(&text, m)));
        match assemble(&text) {
            Ok(image) => check_round_trip(&image)?,
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn arbitrary_text_never_makes_the_assembler_panic(
        text in prop_oneof![
            any::<String>(),
            "[.a-z0-9 \\[\\]\":;\\\\{}\n-]{0,80}",
            "(\\.image \"x\"\n\\.entry 0\n)?(\\.[a-z]{1,8}|[A-Z][a-zA-Z]{0,10}|[0-9]{1,3}:?)( [0-9a-z\"\\[\\]]{1,6}){0,5}",
        ],
    ) {
        if let Ok(image) = assemble(&text) {
            check_round_trip(&image)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// What the text looks like

#[test]
fn assembly_of_a_tiny_program() {
    let source = "(define (greet who) (string-append \"hi, \\\"\" who \"\\\"\\n\"))\n\
                  (display (greet \"λ\"))\n\
                  (display '(1 2.5 #\\a #(x \"y\") . 123456789012345678901234567890))\n";
    let image = with_big_stack(move || compile("tiny.scm", source, Vec::new()))
        .and_then(|mut images| images.pop())
        .expect("the tiny program compiles");
    insta::assert_snapshot!(write_assembly(&image));
}
