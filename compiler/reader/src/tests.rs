//! Unit tests of the reader: every syntax feature, every error (and its kind and span), the printer,
//! and insta snapshots of a few messages and results.

use num_bigint::BigInt;

use super::*;

// ---------------------------------------------------------------------------------------------------
// Helpers

fn read(source: &str) -> Vec<Datum> {
    match read_all(source, 7) {
        Ok(data) => data,
        Err(e) => panic!("reading {source:?} failed: {e:?}"),
    }
}

/// The single datum of `source`.
fn one(source: &str) -> Datum {
    let mut data = read(source);
    assert_eq!(data.len(), 1, "expected one datum in {source:?}, got {data:?}");
    data.remove(0)
}

fn kind(source: &str) -> DatumKind {
    one(source).kind
}

/// The data of `source`, each printed, joined by spaces.
fn show(source: &str) -> String {
    read(source).iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" ")
}

fn error(source: &str) -> ReadError {
    match read_all(source, 7) {
        Ok(data) => panic!("reading {source:?} should fail, got {data:?}"),
        Err(e) => e,
    }
}

/// Asserts `source` fails as Invalid with a message containing `needle`, spanning `start..end`.
fn invalid(source: &str, needle: &str, start: u32, end: u32) {
    let e = error(source);
    assert_eq!(e.kind, ReadErrorKind::Invalid, "{source:?}: {e:?}");
    assert!(e.message.contains(needle), "{source:?}: message {:?} lacks {needle:?}", e.message);
    assert_eq!((e.span.start, e.span.end), (start, end), "{source:?}: span of {e:?}");
    assert_eq!(e.span.file, 7);
}

/// Asserts `source` fails as Incomplete, with a span at `start..end`.
fn incomplete(source: &str, start: u32, end: u32) {
    let e = error(source);
    assert_eq!(e.kind, ReadErrorKind::Incomplete, "{source:?}: {e:?}");
    assert_eq!((e.span.start, e.span.end), (start, end), "{source:?}: span of {e:?}");
}

fn int(n: i64) -> DatumKind {
    DatumKind::Number(Number::Integer(BigInt::from(n)))
}

fn rational(n: i64, d: i64) -> DatumKind {
    DatumKind::Number(Number::Rational(BigInt::from(n), BigInt::from(d)))
}

fn real(x: f64) -> DatumKind {
    DatumKind::Number(Number::Real(x))
}

fn sym(s: &str) -> DatumKind {
    DatumKind::Symbol(s.to_string())
}

fn string(s: &str) -> DatumKind {
    DatumKind::String(s.to_string())
}

fn span(start: usize, end: usize) -> Span {
    Span::new(7, start, end)
}

/// A datum with a dummy span, for building expected values compared with `eq_ignoring_spans`.
fn d(kind: DatumKind) -> Datum {
    Datum::new(kind, Span::default())
}

fn list(items: Vec<DatumKind>) -> DatumKind {
    DatumKind::List { items: items.into_iter().map(d).collect(), tail: None }
}

fn assert_same(source: &str, expected: DatumKind) {
    let got = kind(source);
    assert!(got.eq_ignoring_spans(&expected), "{source:?}: got {got:?}, expected {expected:?}");
}

// ---------------------------------------------------------------------------------------------------
// Lists and dotted pairs

#[test]
fn empty_text_and_whitespace() {
    assert!(read("").is_empty());
    assert!(read("  \n\t \r\n ").is_empty());
    assert!(read("; only a comment").is_empty());
}

#[test]
fn lists() {
    assert_same("()", list(vec![]));
    assert_same("( )", list(vec![]));
    assert_same("(a b c)", list(vec![sym("a"), sym("b"), sym("c")]));
    assert_same("(a (b (c)) ())", list(vec![sym("a"), list(vec![sym("b"), list(vec![sym("c")])]), list(vec![])]));
    assert_eq!(show("(a(b)c)"), "(a (b) c)");
    assert_eq!(show("(1 2)(3)"), "(1 2) (3)");
}

#[test]
fn dotted_pairs() {
    let DatumKind::List { items, tail: Some(tail) } = kind("(a . b)") else { panic!() };
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].kind, sym("a"));
    assert_eq!(tail.kind, sym("b"));
    assert_eq!(tail.span, span(5, 6));
    assert_eq!(show("(a b . c)"), "(a b . c)");
    assert_eq!(show("(a .b)"), "(a .b)", "`.b` is a symbol");
    assert_eq!(show("(a . 1)"), "(a . 1)");
    assert_eq!(show("((a . b) . (c . d))"), "((a . b) c . d)");
}

#[test]
fn a_list_tail_is_spliced() {
    assert_same("(a . (b c))", list(vec![sym("a"), sym("b"), sym("c")]));
    assert_same("(a . ())", list(vec![sym("a")]));
    assert_eq!(show("(a . (b . c))"), "(a b . c)");
    assert_eq!(show("(a . #(b))"), "(a . #(b))");
}

#[test]
fn dots_that_are_not_the_dot() {
    assert_same("(a .b. c)", list(vec![sym("a"), sym(".b."), sym("c")]));
    assert_same("(... .foo .5)", list(vec![sym("..."), sym(".foo"), real(0.5)]));
}

#[test]
fn dotted_list_errors() {
    invalid("(a . b c)", "only one datum may follow the dot", 7, 8);
    invalid("(a . b . c)", "only one datum may follow the dot", 7, 8);
    invalid("( . a)", "expected a datum before `.`", 2, 3);
    invalid("(#;x . a)", "expected a datum before `.`", 5, 6);
    invalid("(a . )", "expected a datum after `.`, found `)`", 5, 6);
    invalid("(a . . b)", "expected a datum after `.`, found `.`", 5, 6);
    invalid(".", "unexpected `.`", 0, 1);
    invalid("#(a . b)", "unexpected `.`", 4, 5);
    invalid("#u8(1 . 2)", "unexpected `.`", 6, 7);
}

#[test]
fn unexpected_close() {
    invalid(")", "unexpected `)`", 0, 1);
    invalid("(a))", "unexpected `)`", 3, 4);
    invalid("a b )", "unexpected `)`", 4, 5);
    assert_eq!(error(")").message, "unexpected `)`");
}

// ---------------------------------------------------------------------------------------------------
// Vectors and bytevectors

#[test]
fn vectors() {
    assert_eq!(kind("#()"), DatumKind::Vector(vec![]));
    assert_eq!(show("#(1 #(2) (3) \"x\")"), "#(1 #(2) (3) \"x\")");
    let DatumKind::Vector(items) = kind("#(a b)") else { panic!() };
    assert_eq!(items[1].span, span(4, 5));
}

#[test]
fn bytevectors() {
    assert_eq!(kind("#u8()"), DatumKind::Bytevector(vec![]));
    assert_eq!(kind("#u8(0 1 255)"), DatumKind::Bytevector(vec![0, 1, 255]));
    assert_eq!(kind("#U8(#xff #b101 #e2.0)"), DatumKind::Bytevector(vec![255, 5, 2]));
    assert_eq!(kind("#u8( #;300 7 )"), DatumKind::Bytevector(vec![7]));
}

#[test]
fn bytevector_errors_name_the_value() {
    invalid("#u8(1 256)", "not `256`", 6, 9);
    invalid("#u8(-1)", "not `-1`", 4, 6);
    invalid("#u8(1.0)", "not `1.0`", 4, 7);
    invalid("#u8(1/2)", "not `1/2`", 4, 7);
    invalid("#u8(a)", "exact integer from 0 to 255, not `a`", 4, 5);
    invalid("#u8((1))", "not a list", 4, 5);
    invalid("#u8(#(1))", "not a vector", 4, 6);
    invalid("#u8('1)", "not a quoted datum", 4, 5);
    invalid("#u8(1 2 300", "not `300`", 8, 11);
    assert_eq!(kind("#u8(#;(1 2) #;'a #;#u8(1) 3)"), DatumKind::Bytevector(vec![3]));
    invalid("#u8 (1)", "unknown `#` syntax `#u8`", 0, 3);
}

// ---------------------------------------------------------------------------------------------------
// Quote abbreviations

#[test]
fn quote_forms() {
    for (source, name) in [("'x", "quote"), ("`x", "quasiquote"), (",x", "unquote"), (",@x", "unquote-splicing")] {
        let datum = one(source);
        let items = datum.as_list().expect("a list");
        assert_eq!(items[0].kind, sym(name), "{source}");
        assert_eq!(items[1].kind, sym("x"), "{source}");
        let prefix_len = source.len() - 1;
        assert_eq!(items[0].span, span(0, prefix_len), "{source}: the symbol spans the prefix");
        assert_eq!(items[1].span, span(prefix_len, source.len()), "{source}");
        assert_eq!(datum.span, span(0, source.len()), "{source}: the list spans prefix and datum");
    }
}

#[test]
fn nested_quote_forms() {
    assert_same("''a", list(vec![sym("quote"), list(vec![sym("quote"), sym("a")])]));
    assert_same(
        "'(a . b)",
        list(vec![sym("quote"), DatumKind::List { items: vec![d(sym("a"))], tail: Some(Box::new(d(sym("b")))) }]),
    );
    assert_eq!(show("`(a ,b ,@(c d))"), "`(a ,b ,@(c d))");
    assert_eq!(show("' x"), "'x");
    assert_eq!(show("'\n;c\n x"), "'x");
    assert_eq!(show("'#;a b"), "'b");
    assert_eq!(show(", @x"), "(unquote @x)", "`, @x` is `,` before the symbol `@x`");
    let datum = one("' x");
    assert_eq!(datum.span, span(0, 3));
}

#[test]
fn quote_errors() {
    invalid("(')", "expected a datum after `'`, found `)`", 2, 3);
    invalid("(,@ )", "expected a datum after `,@`, found `)`", 4, 5);
    incomplete("'", 0, 1);
    incomplete("(a `", 3, 4);
    incomplete("(a ,@", 3, 5);
}

// ---------------------------------------------------------------------------------------------------
// Strings

#[test]
fn strings() {
    assert_eq!(kind(r#""""#), string(""));
    assert_eq!(kind(r#""hello, world""#), string("hello, world"));
    assert_eq!(kind("\"two\nlines\""), string("two\nlines"));
    assert_eq!(kind("\"λ ünï 😀\""), string("λ ünï 😀"));
    assert_eq!(kind(r#""a;b(c)|d#|e""#), string("a;b(c)|d#|e"));
    assert_eq!(one(r#"  "ab"  "#).span, span(2, 6));
}

#[test]
fn string_escapes() {
    assert_eq!(kind(r#""\a\b\t\n\r\"\\\|""#), string("\u{7}\u{8}\t\n\r\"\\|"));
    assert_eq!(kind(r#""\x41;\x3bb;\X1F600;\x0;""#), string("Aλ😀\0"));
    assert_eq!(kind(r#""\x000041;""#), string("A"));
}

#[test]
fn string_line_continuations() {
    assert_eq!(kind("\"abc\\\n   def\""), string("abcdef"));
    assert_eq!(kind("\"abc\\  \t\n\t  def\""), string("abcdef"));
    assert_eq!(kind("\"abc\\\r\n  def\""), string("abcdef"));
    assert_eq!(kind("\"abc \\\n\n def\""), string("abc \n def"), "only one line ending is skipped");
}

#[test]
fn string_errors() {
    invalid(r#""a\qb""#, "invalid string escape `\\q`", 2, 4);
    invalid(r#""\x41""#, "invalid hex escape `\\x41`", 1, 5);
    invalid(r#""\x;""#, "invalid hex escape", 1, 4);
    invalid(r#""\xZZ;""#, "invalid hex escape", 1, 3);
    invalid(r#""\xD800;""#, "not a Unicode scalar value", 1, 8);
    invalid(r#""\x110000;""#, "not a Unicode scalar value", 1, 10);
    invalid(r#""\xFFFFFFFFFFFF;""#, "not a Unicode scalar value", 1, 16);
    invalid("\"a\\  b\"", "must end the line", 2, 4);
    invalid("\"\\é\"", "invalid string escape `\\é`", 1, 4);
    incomplete("\"abc", 0, 1);
    incomplete("(display \"abc\ndef", 9, 10);
    incomplete("\"abc\\\"", 0, 1);
    incomplete("\"abc\\", 0, 1);
    incomplete("\"abc\\x4", 0, 1);
    incomplete("\"abc\\  ", 0, 1);
    invalid("\"abc\\q", "invalid string escape `\\q`", 4, 6);
    invalid("\"a\\x41 b", "invalid hex escape", 2, 6);
    invalid("|a\\q", "invalid string escape", 2, 4);
}

// ---------------------------------------------------------------------------------------------------
// Characters

#[test]
fn characters() {
    for (source, c) in [
        ("#\\a", 'a'),
        ("#\\A", 'A'),
        ("#\\(", '('),
        ("#\\)", ')'),
        ("#\\ ", ' '),
        ("#\\;", ';'),
        ("#\\\"", '"'),
        ("#\\|", '|'),
        ("#\\#", '#'),
        ("#\\\\", '\\'),
        ("#\\'", '\''),
        ("#\\λ", 'λ'),
        ("#\\x", 'x'),
        ("#\\X", 'X'),
        ("#\\x41", 'A'),
        ("#\\x3bb", 'λ'),
        ("#\\X3BB", 'λ'),
        ("#\\x0", '\0'),
        ("#\\1", '1'),
    ] {
        assert_eq!(kind(source), DatumKind::Character(c), "{source:?}");
    }
    assert_eq!(show("(#\\a #\\( #\\))"), "(#\\a #\\( #\\))");
    assert_eq!(show("(#\\x)"), "(#\\x)");
    assert_eq!(one("#\\space").span, span(0, 7));
}

#[test]
fn character_names() {
    for (name, c) in [
        ("alarm", '\u{7}'),
        ("backspace", '\u{8}'),
        ("delete", '\u{7f}'),
        ("escape", '\u{1b}'),
        ("newline", '\n'),
        ("null", '\0'),
        ("return", '\r'),
        ("space", ' '),
        ("tab", '\t'),
        ("nul", '\0'),
        ("altmode", '\u{1b}'),
        ("linefeed", '\n'),
        ("page", '\u{c}'),
        ("rubout", '\u{7f}'),
    ] {
        assert_eq!(kind(&format!("#\\{name}")), DatumKind::Character(c), "{name}");
    }
}

#[test]
fn character_errors() {
    invalid("#\\foo", "unknown character name `#\\foo`", 0, 5);
    invalid("#\\ab", "unknown character name `#\\ab`", 0, 4);
    invalid("#\\Space", "unknown character name `#\\Space`", 0, 7);
    invalid("#\\spaces", "unknown character name", 0, 8);
    invalid("#\\xyz", "unknown character name `#\\xyz`", 0, 5);
    invalid("#\\xD800", "not a Unicode scalar value", 0, 7);
    invalid("#\\x110000", "not a Unicode scalar value", 0, 9);
    invalid("#\\xFFFFFFFFFFFF", "not a Unicode scalar value", 0, 15);
    incomplete("#\\", 0, 2);
    incomplete("(a #\\", 3, 5);
}

// ---------------------------------------------------------------------------------------------------
// Booleans and `#` syntax

#[test]
fn booleans() {
    let expected = [true, false, true, false, true, false];
    let data: Vec<DatumKind> = read("#t #f #true #false #T #FALSE").into_iter().map(|d| d.kind).collect();
    assert_eq!(data, expected.map(DatumKind::Boolean));
    assert_eq!(show("(#t(#f))"), "(#t (#f))", "`(` and `)` end a boolean");
    invalid("(#t#f)", "unknown `#` syntax `#t#f`", 1, 5);
}

#[test]
fn bad_hash_syntax() {
    invalid("#tru", "unknown `#` syntax `#tru`", 0, 4);
    invalid("#", "unexpected `#`", 0, 1);
    invalid("# t", "unexpected `#`", 0, 1);
    invalid("#foo", "unknown `#` syntax `#foo`", 0, 4);
    invalid("#!", "expected a name after `#!`", 0, 2);
}

#[test]
fn datum_labels_are_not_supported() {
    invalid("#0=(a . #0#)", "datum labels (`#0=` and `#0#`) are not supported", 0, 3);
    invalid("(a #12#)", "datum labels", 3, 7);
}

#[test]
fn brackets_are_not_supported() {
    invalid("[a]", "unexpected `[`: square and curly brackets are not supported", 0, 1);
    invalid("(a ]", "unexpected `]`", 3, 4);
    invalid("{", "unexpected `{`", 0, 1);
}

// ---------------------------------------------------------------------------------------------------
// Numbers

#[test]
fn integers() {
    assert_eq!(kind("0"), int(0));
    assert_eq!(kind("42"), int(42));
    assert_eq!(kind("-42"), int(-42));
    assert_eq!(kind("+42"), int(42));
    assert_eq!(kind("-0"), int(0));
    assert_eq!(kind("007"), int(7));
    let big = "123456789012345678901234567890123456789";
    assert_eq!(kind(big), DatumKind::Number(Number::Integer(big.parse().unwrap())));
    assert_eq!(kind(&format!("-{big}")), DatumKind::Number(Number::Integer(-big.parse::<BigInt>().unwrap())));
}

#[test]
fn radix_and_exactness_prefixes() {
    assert_eq!(kind("#xff"), int(255));
    assert_eq!(kind("#XFF"), int(255));
    assert_eq!(kind("#x-1A"), int(-26));
    assert_eq!(kind("#b1010"), int(10));
    assert_eq!(kind("#B-1"), int(-1));
    assert_eq!(kind("#o17"), int(15));
    assert_eq!(kind("#d99"), int(99));
    assert_eq!(kind("#e#x10"), int(16));
    assert_eq!(kind("#x#e10"), int(16));
    assert_eq!(kind("#i#x10"), real(16.0));
    assert_eq!(kind("#x#I10"), real(16.0));
    assert_eq!(kind("#i5"), real(5.0));
    assert_eq!(kind("#e5"), int(5));
    assert_eq!(
        kind("#xabcdef0123456789abcdef"),
        DatumKind::Number(Number::Integer(BigInt::parse_bytes(b"abcdef0123456789abcdef", 16).unwrap()))
    );
    assert_eq!(kind("#x1/a"), rational(1, 10));
    let DatumKind::Number(Number::Real(x)) = kind("#i-0") else { panic!() };
    assert!(x == 0.0 && x.is_sign_negative());
}

#[test]
fn decimals() {
    assert_eq!(kind("1.5"), real(1.5));
    assert_eq!(kind(".5"), real(0.5));
    assert_eq!(kind("-.5"), real(-0.5));
    assert_eq!(kind("+.5"), real(0.5));
    assert_eq!(kind("1."), real(1.0));
    assert_eq!(kind("1e10"), real(1e10));
    assert_eq!(kind("1E10"), real(1e10));
    assert_eq!(kind("1.5e-3"), real(1.5e-3));
    assert_eq!(kind("-2.5e+2"), real(-250.0));
    assert_eq!(kind("#d1.25"), real(1.25));
    assert_eq!(kind("0.1"), real(0.1));
    assert_eq!(kind("1e400"), real(f64::INFINITY));
    assert_eq!(kind("1e-400"), real(0.0));
    assert_eq!(kind("1e99999999999999999999999"), real(f64::INFINITY));
    let DatumKind::Number(Number::Real(x)) = kind("-0.0") else { panic!() };
    assert!(x == 0.0 && x.is_sign_negative());
}

#[test]
fn exact_decimals() {
    assert_eq!(kind("#e1.5"), rational(3, 2));
    assert_eq!(kind("#e1.0"), int(1));
    assert_eq!(kind("#e.25"), rational(1, 4));
    assert_eq!(kind("#e-1.5e2"), int(-150));
    assert_eq!(kind("#e1e-2"), rational(1, 100));
    assert_eq!(kind("#e0e99999999999"), int(0));
    let DatumKind::Number(Number::Integer(n)) = kind("#e1e400") else { panic!() };
    assert_eq!(n, BigInt::from(10).pow(400));
    invalid("#e1e100001", "exponent too large for an exact number", 0, 10);
}

#[test]
fn ratios() {
    assert_eq!(kind("1/3"), rational(1, 3));
    assert_eq!(kind("-1/3"), rational(-1, 3));
    assert_eq!(kind("+2/6"), rational(1, 3));
    assert_eq!(kind("6/3"), int(2));
    assert_eq!(kind("0/5"), int(0));
    assert_eq!(kind("#i1/4"), real(0.25));
    assert_eq!(kind("#i1/3"), real(1.0 / 3.0));
    assert_eq!(kind("#i1/0"), real(f64::INFINITY));
    assert_eq!(kind("#i-1/0"), real(f64::NEG_INFINITY));
    assert_eq!(kind("#e6/4"), rational(3, 2));
    invalid("1/0", "division by zero in `1/0`", 0, 3);
    invalid("#e-5/0", "division by zero", 0, 6);
    assert_eq!(kind("1/-2"), sym("1/-2"), "a sign only starts the numerator");
}

#[test]
fn infinities_and_nans() {
    assert_eq!(kind("+inf.0"), real(f64::INFINITY));
    assert_eq!(kind("-inf.0"), real(f64::NEG_INFINITY));
    assert_eq!(kind("+INF.0"), real(f64::INFINITY));
    assert!(matches!(kind("+nan.0"), DatumKind::Number(Number::Real(x)) if x.is_nan()));
    assert!(matches!(kind("-nan.0"), DatumKind::Number(Number::Real(x)) if x.is_nan()));
    assert_eq!(kind("#i+inf.0"), real(f64::INFINITY));
    assert_eq!(kind("inf.0"), sym("inf.0"));
    assert_eq!(kind("+inf.00"), sym("+inf.00"));
    invalid("#e+inf.0", "`#e+inf.0` has no exact representation", 0, 8);
    invalid("#e-nan.0", "no exact representation", 0, 8);
}

#[test]
fn bad_prefixed_numbers() {
    invalid("#xZZ", "bad number `#xZZ`", 0, 4);
    invalid("#x1.5", "bad number", 0, 5);
    invalid("#b102", "bad number", 0, 5);
    invalid("#e#e1", "bad number", 0, 5);
    invalid("#x#b1", "bad number", 0, 5);
    invalid("#e", "bad number `#e`", 0, 2);
    invalid("#i", "bad number", 0, 2);
    invalid("#x", "bad number", 0, 2);
    invalid("#e1a", "bad number", 0, 4);
    invalid("#xé", "bad number", 0, 4);
}

#[test]
fn complex_numbers_are_not_supported() {
    for source in ["1+2i", "+i", "-i", "1.5-2.5i", "1@2", "+inf.0i", "#x1+fi", "1e5+1e-5i"] {
        let e = error(source);
        assert_eq!(e.kind, ReadErrorKind::Invalid, "{source}");
        assert!(e.message.contains("complex numbers are not supported"), "{source}: {e:?}");
    }
}

#[test]
fn things_that_look_like_numbers_but_are_symbols() {
    for source in [
        "+", "-", "...", "1+", "+x", "1a", "-a", "->x", "->", "+.", "1e", "1.2.3", "1..", "--1", "+-", "1/", "/1",
        "a1", "+@", "pi", "+5a", "1#",
    ] {
        assert_eq!(kind(source), sym(source), "{source:?} is a symbol");
    }
}

#[test]
fn numbers_need_a_delimiter() {
    assert_eq!(show("(1(2)3)"), "(1 (2) 3)");
    assert_eq!(show("1\"a\""), "1 \"a\"");
    assert_eq!(show("1;c\n2"), "1 2");
    assert_eq!(show("1'2"), "1 '2");
    assert_eq!(kind("12abc"), sym("12abc"));
}

// ---------------------------------------------------------------------------------------------------
// Symbols

#[test]
fn symbols() {
    for source in [
        "a",
        "lambda",
        "list->vector",
        "set-car!",
        "<=?",
        "a.b",
        "x1",
        "!$%&*/:<=>?^_~",
        "λ",
        "hello-world",
        "a#b",
        "@x",
    ] {
        assert_eq!(kind(source), sym(source), "{source:?}");
    }
    assert_eq!(kind("ABC"), sym("ABC"), "symbols are case-sensitive");
    assert_eq!(show("(Foo foo)"), "(Foo foo)");
}

#[test]
fn peculiar_identifiers() {
    for source in ["+", "-", "...", "->x", ".foo", "+a", "-a", "+.a", "-.", "..", "+@", "-@x"] {
        assert_eq!(kind(source), sym(source), "{source:?}");
    }
}

#[test]
fn barred_symbols() {
    assert_eq!(kind("|hello world|"), sym("hello world"));
    assert_eq!(kind("||"), sym(""));
    assert_eq!(kind("|a\\|b|"), sym("a|b"));
    assert_eq!(kind("|\\x41;\\t\\\\|"), sym("A\t\\"));
    assert_eq!(kind("|ABC|"), sym("ABC"));
    assert_eq!(kind("|42|"), sym("42"));
    assert_eq!(kind("|(\"|"), sym("(\""));
    assert_eq!(show("(|a| |b c|)"), "(a |b c|)");
    invalid("|a\\qb|", "invalid string escape `\\q`", 2, 4);
    incomplete("|abc", 0, 1);
    incomplete("(a |abc) d", 3, 4);
}

#[test]
fn fold_case_directives() {
    assert_eq!(show("ABC #!fold-case ABC Foo-Bar |ABC| #!no-fold-case ABC"), "ABC abc foo-bar ABC ABC");
    assert_eq!(
        read("#!fold-case #\\SPACE #\\Newline #\\A #\\X41").into_iter().map(|d| d.kind).collect::<Vec<_>>(),
        [' ', '\n', 'A', 'A'].map(DatumKind::Character),
        "names fold; single characters and hex scalars do not"
    );
    assert_eq!(show("#!fold-case \"ABC\" #T #X1F"), "\"ABC\" #t 31", "strings are not folded");
    assert_eq!(show("(a #!fold-case B) C"), "(a b) c", "a directive works inside a list");
    assert_eq!(show("#!fold-case ΑΒΓ"), "αβγ");
}

#[test]
fn special_objects() {
    assert_eq!(kind("#!optional"), DatumKind::Special("optional".into()));
    assert_eq!(kind("#!eof"), DatumKind::Special("eof".into()));
    assert_eq!(show("(a #!rest b)"), "(a #!rest b)");
    assert_eq!(one(" #!default ").span, span(1, 10));
}

#[test]
fn script_header_is_skipped() {
    assert_eq!(show("#!/usr/bin/env chenilles\n(display 1)"), "(display 1)");
    assert_eq!(show("#! /bin/sh\nx"), "x");
    assert_eq!(one("#!/usr/bin/env chenilles\nx").span, span(25, 26));
    assert_eq!(show("#!/usr/bin/env chenilles"), "");
}

// ---------------------------------------------------------------------------------------------------
// Comments

#[test]
fn line_comments() {
    assert_eq!(show("a ; comment (\nb;c\n;;; d\n"), "a b");
    assert_eq!(show("(a ; ) \n b)"), "(a b)");
}

#[test]
fn block_comments() {
    assert_eq!(show("a #| comment |# b"), "a b");
    assert_eq!(show("a #| outer #| inner |# still outer |# b"), "a b");
    assert_eq!(show("a #|#|#||#|#|# b"), "a b");
    assert_eq!(show("(a #|x|#b)"), "(a b)", "a block comment ends an atom");
    assert_eq!(show("#| \" ( ; |# x"), "x");
    assert_eq!(show("#||# x"), "x");
    incomplete("#| never closed", 0, 2);
    incomplete("a #| #| |# b", 2, 4);
    incomplete("#|#", 0, 2);
}

#[test]
fn datum_comments() {
    assert_eq!(show("#;a b"), "b");
    assert_eq!(show("#; a b"), "b");
    assert_eq!(show("#;(a (b c)) d"), "d");
    assert_eq!(show("#; #; a b c"), "c");
    assert_eq!(show("#;#;#;a b c d"), "d");
    assert_eq!(show("(a #;b c)"), "(a c)");
    assert_eq!(show("(a #;b)"), "(a)");
    assert_eq!(show("(#;a)"), "()");
    assert_eq!(show("(a #; #; b c)"), "(a)");
    assert_eq!(show("(a . #;b c)"), "(a . c)");
    assert_eq!(show("(a . c #;d)"), "(a . c)");
    assert_eq!(show("(a #;b . c)"), "(a . c)");
    assert_eq!(show("#(1 #;2 3)"), "#(1 3)");
    assert_eq!(show("#;'a b"), "b");
    assert_eq!(show("#;#(1 2) b"), "b");
    assert_eq!(show("a #;b"), "a");
    assert_eq!(show("#;\n; comment\n #| block |# a b"), "b");
    assert!(read("#;a").is_empty());
}

#[test]
fn datum_comment_errors() {
    incomplete("#;", 0, 2);
    incomplete("a #;", 2, 4);
    incomplete("#; #; a", 0, 2);
    incomplete("'#;a", 0, 1);
    incomplete("#;'a '#;b", 5, 6);
    incomplete("(a #;", 3, 5);
    invalid("(a #;)", "expected a datum after `#;`, found `)`", 5, 6);
    invalid("#; )", "expected a datum after `#;`, found `)`", 3, 4);
}

// ---------------------------------------------------------------------------------------------------
// Incomplete versus invalid

#[test]
fn incomplete_input() {
    incomplete("(", 0, 1);
    incomplete("(a b", 0, 1);
    incomplete("(a (b c)", 0, 1);
    incomplete("(a (b c", 3, 4);
    incomplete("(a . b", 0, 1);
    incomplete("(a .", 3, 4);
    incomplete("#(1 2", 0, 2);
    incomplete("#u8(1 2", 0, 4);
    incomplete("(define (f x)\n  (+ x 1)\n", 0, 1);
    incomplete("x \"abc", 2, 3);
    incomplete("#|", 0, 2);
    incomplete("'", 0, 1);
    incomplete("`(a ,", 4, 5);
    incomplete("#;", 0, 2);
    for source in ["(", "(a", "\"", "#|", "'", "#;", "|", "#\\", "(a . ", "#(", "#u8(", "(a #| x |# ", "((((("] {
        assert_eq!(error(source).kind, ReadErrorKind::Incomplete, "{source:?}");
    }
}

#[test]
fn invalid_input_is_not_incomplete() {
    for source in [")", "(a . b c", "( . a", "#u8(300", "\"\\q", "#\\foo (", "(#0=a", "1/0 (", "[", "(a ]"] {
        assert_eq!(error(source).kind, ReadErrorKind::Invalid, "{source:?}");
    }
}

#[test]
fn the_first_error_wins() {
    invalid("(a \"\\q\" ) )", "invalid string escape", 4, 6);
    invalid(") (", "unexpected `)`", 0, 1);
}

// ---------------------------------------------------------------------------------------------------
// Spans

#[test]
fn spans() {
    let source = "(define (f x)\n  (* x 2.5)) \"s\" #\\a";
    let data = read(source);
    assert_eq!(data[0].span, span(0, 26));
    assert_eq!(data[1].span, span(27, 30));
    assert_eq!(data[2].span, span(31, 34));
    let items = data[0].as_list().unwrap();
    assert_eq!(items[0].span, span(1, 7));
    assert_eq!(items[1].span, span(8, 13));
    assert_eq!(items[2].span, span(16, 25));
    let body = items[2].as_list().unwrap();
    assert_eq!(&source[body[2].span.start as usize..body[2].span.end as usize], "2.5");
    assert_eq!(items[1].as_list().unwrap()[1].span, span(11, 12));
}

#[test]
fn spans_are_byte_offsets() {
    let data = read("λ \"é\" (ü)");
    assert_eq!(data[0].span, span(0, 2));
    assert_eq!(data[1].span, span(3, 7));
    assert_eq!(data[2].span, span(8, 12));
    assert_eq!(data[2].as_list().unwrap()[0].span, span(9, 11));
}

#[test]
fn spans_carry_the_file() {
    let data = read_all("(a)", 42).unwrap();
    assert_eq!(data[0].span.file, 42);
    assert_eq!(data[0].as_list().unwrap()[0].span.file, 42);
    assert_eq!(read_all(")", 42).unwrap_err().span.file, 42);
}

// ---------------------------------------------------------------------------------------------------
// Nesting limit

#[test]
fn nesting_up_to_the_limit() {
    let depth = MAX_NESTING_DEPTH as usize;
    let source = format!("{}{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(read(&source).len(), 1);
    let source = format!("{}x", "'".repeat(depth));
    assert_eq!(read(&source).len(), 1);
}

#[test]
fn nesting_beyond_the_limit() {
    let depth = MAX_NESTING_DEPTH as usize + 1;
    let source = format!("{}{}", "(".repeat(depth), ")".repeat(depth));
    invalid(&source, "nested more than 1000 levels deep", 0, (2 * depth) as u32);
    let source = format!("{}x", "'".repeat(100_000));
    assert_eq!(error(&source).kind, ReadErrorKind::Invalid);
    let source = "#(".repeat(100_000);
    incomplete(&source, 199_998, 200_000);
}

// ---------------------------------------------------------------------------------------------------
// Printing

#[test]
fn print_atoms() {
    assert_eq!(show("#t #f #true"), "#t #f #t");
    assert_eq!(show("42 -7 #xff 1/3 -2/4"), "42 -7 255 1/3 -1/2");
    assert_eq!(
        show("1.5 1.0 1. 0.1 -0.0 1e20 1e21 1.5e-7 123456.789"),
        "1.5 1.0 1.0 0.1 -0.0 1e20 1e21 1.5e-7 123456.789"
    );
    assert_eq!(show("+inf.0 -inf.0 +nan.0 -nan.0"), "+inf.0 -inf.0 +nan.0 +nan.0");
    assert_eq!(show("#!eof"), "#!eof");
}

#[test]
fn print_strings() {
    assert_eq!(show(r#""a\"b\\c""#), r#""a\"b\\c""#);
    assert_eq!(show("\"tab\there\nnl\rcr\u{7}\u{8}\""), r#""tab\there\nnl\rcr\a\b""#);
    assert_eq!(show(r#""\x0;\x1b;\x7f;""#), r#""\x0;\x1b;\x7f;""#);
    assert_eq!(show(r#""λ|x|""#), r#""λ|x|""#);
}

#[test]
fn print_characters() {
    assert_eq!(show("#\\a #\\A #\\( #\\; #\\\" #\\| #\\\\ #\\λ"), "#\\a #\\A #\\( #\\; #\\\" #\\| #\\\\ #\\λ");
    assert_eq!(
        show(
            "#\\space #\\newline #\\tab #\\nul #\\null #\\alarm #\\backspace #\\delete #\\escape #\\return #\\altmode #\\page"
        ),
        "#\\space #\\newline #\\tab #\\null #\\null #\\alarm #\\backspace #\\delete #\\escape #\\return #\\escape #\\xc"
    );
    assert_eq!(show("#\\x #\\xa0 #\\x2028 #\\x85"), "#\\x #\\xa0 #\\x2028 #\\x85");
}

#[test]
fn print_symbols() {
    assert_eq!(show("abc ->x ... + - .foo λ a#b"), "abc ->x ... + - .foo λ a#b");
    assert_eq!(
        show("|a b| || |42| |-1.5| |.| |#foo| |a(b| |a;b| |a'b| |a\\|b| |a\\\\b| |+i| |1/0|"),
        "|a b| || |42| |-1.5| |.| |#foo| |a(b| |a;b| |a'b| |a\\|b| |a\\\\b| |+i| |1/0|"
    );
    assert_eq!(show("|tab\\there| |\\x0;|"), "|tab\\there| |\\x0;|");
    assert_eq!(show("|ABC|"), "ABC");
    assert!(symbol_needs_bars(""));
    assert!(symbol_needs_bars("1"));
    assert!(!symbol_needs_bars("1+"));
}

#[test]
fn print_compound() {
    assert_eq!(show("(a (b . c) #(1 #u8(2 3)) ())"), "(a (b . c) #(1 #u8(2 3)) ())");
    assert_eq!(show("#u8() #()"), "#u8() #()");
    assert_eq!(show("(quote x) (quasiquote (unquote y)) (unquote-splicing z)"), "'x `,y ,@z");
    assert_eq!(show("(quote) (quote a b) (quote . a) (a quote b)"), "(quote) (quote a b) (quote . a) (a quote b)");
    assert_eq!(show("'(quote . x)"), "'(quote . x)");
    assert_eq!(
        show(", @x ,@x ,|@x| ,(@x)"),
        "(unquote @x) ,@x (unquote @x) ,(@x)",
        "`,` before `@` is not abbreviated"
    );
}

// ---------------------------------------------------------------------------------------------------
// Round trip

const SAMPLE: &str = r#"#!/usr/bin/env chenilles
;; A varied sample of data.
(define-library (example sample)
  (export main)
  (import (scheme base) (scheme write))
  (begin
    (define (main . args)
      (let loop ((i 0) (acc '()))
        (if (< i 10)
            (loop (+ i 1) `(,i ,@acc))
            (display (list->string (map integer->char '(72 105)))))))))
#| block #| nested |# comment |#
(a . b) (a b . c) (1 . (2 3)) #(1 "two" #\3 (4 . 5) #u8(6 7)) #u8(0 127 255)
"escapes: \a\b\t\n\r\"\\\| \x3bb; line \
   continued" "λ 😀"
#\a #\space #\newline #\x3bb #\x #\( #\) #\; #\" #\\ #\tab #\null #\delete
#t #f #true #false
0 -0 42 -17 123456789012345678901234567890 #xFF #b-101 #o777 #e1.25 #i3/4 1/3 -22/7 6/3
1.5 -0.25 .5 1e10 1.5e-3 -0.0 +inf.0 -inf.0 +nan.0 1e300 4.9e-324 #i1/3
foo Foo ->x ... + - .foo λ |two words| || |42| |a\|b| |(| set-car! <=?
#!optional #!eof #!default
'quoted `(quasi ,unquoted ,@spliced) #;(skipped datum) (after #;skipped) ''double
#!fold-case (UPPER Case #\SPACE |Kept|) #!no-fold-case (Upper)
"#;
const SAMPLE_PRINTED: &str = r#"(define-library (example sample) (export main) (import (scheme base) (scheme write)) (begin (define (main . args) (let loop ((i 0) (acc '())) (if (< i 10) (loop (+ i 1) `(,i ,@acc)) (display (list->string (map integer->char '(72 105)))))))))"#;

#[test]
fn round_trip_of_a_varied_sample() {
    let first = read(SAMPLE);
    assert_eq!(first[0].to_string(), SAMPLE_PRINTED);
    let printed: Vec<String> = first.iter().map(|d| d.to_string()).collect();
    let second = read(&printed.join("\n"));
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert!(a.eq_ignoring_spans(b), "{a} read back as {b}");
    }
    // Printing is stable.
    let reprinted: Vec<String> = second.iter().map(|d| d.to_string()).collect();
    assert_eq!(printed, reprinted);
}

#[test]
fn eq_ignoring_spans() {
    let a = one("(1 +nan.0 \"x\")");
    let b = one("  ( 1 +nan.0 \"x\" )");
    assert_ne!(a, b, "spans differ and NaN != NaN");
    assert!(a.eq_ignoring_spans(&b));
    assert!(!one("0.0").eq_ignoring_spans(&one("-0.0")));
    assert!(!one("(a . b)").eq_ignoring_spans(&one("(a b)")));
    assert!(!one("#(1)").eq_ignoring_spans(&one("(1)")));
}

// ---------------------------------------------------------------------------------------------------
// Snapshots

/// Every error of `sources`, one per line: source, kind, span and message.
fn error_report(sources: &[&str]) -> String {
    sources
        .iter()
        .map(|source| match read_all(source, 0) {
            Ok(data) => format!("{source:?} => ok: {}", data.len()),
            Err(e) => format!("{source:?} => {:?} at {}..{}: {}", e.kind, e.span.start, e.span.end, e.message),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn snapshot_error_messages() {
    insta::assert_snapshot!(error_report(&[
        ")",
        "(a . b c)",
        "( . a)",
        "(a . )",
        "#(a . b)",
        "(a",
        "(a (b c",
        "'",
        "#;",
        "\"abc",
        "#| abc",
        "\"\\q\"",
        "\"\\x41\"",
        "#\\foo",
        "#u8(1 300)",
        "#0=(a . #0#)",
        "#xZZ",
        "1/0",
        "1+2i",
        "#e+inf.0",
        "[a]",
        "#tru",
    ]));
}

#[test]
fn snapshot_read_results() {
    insta::assert_debug_snapshot!(read_all("(a . \"b\") #(1 2.5 3/4) 'x #\\space #u8(1) #!eof", 3));
}

#[test]
fn snapshot_printed_data() {
    let data = read(SAMPLE);
    insta::assert_snapshot!(data.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"));
}
