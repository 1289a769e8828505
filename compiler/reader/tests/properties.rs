//! Property tests of the reader: printed data read back equal, and no input makes it panic.

use chenilles_reader::{Datum, DatumKind, Number, ReadErrorKind, Span, read_all};
use num_bigint::BigInt;
use num_integer::Integer;
use proptest::collection::vec;
use proptest::prelude::*;

fn d(kind: DatumKind) -> Datum {
    Datum::new(kind, Span::default())
}

fn integer() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<i64>().prop_map(BigInt::from),
        (any::<bool>(), "[1-9][0-9]{18,60}").prop_map(|(negative, digits)| {
            let n: BigInt = digits.parse().expect("digits");
            if negative { -n } else { n }
        }),
    ]
}

/// An exact ratio, reduced as the reader makes them (an integer when the denominator divides).
fn ratio() -> impl Strategy<Value = Number> {
    (integer(), 2i64..i64::MAX).prop_map(|(n, d)| {
        let d = BigInt::from(d);
        let g = n.gcd(&d);
        let (n, d) = (n / &g, d / &g);
        if d == BigInt::from(1) { Number::Integer(n) } else { Number::Rational(n, d) }
    })
}

fn real() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        (-1000i32..1000).prop_map(f64::from),
        (-1e6f64..1e6),
    ]
}

fn symbol() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z!$%&*/:<=>?^_~][a-zA-Z0-9!$%&*/:<=>?^_~+.@-]{0,10}",
        Just("...".to_string()),
        Just("+".to_string()),
        Just("-".to_string()),
        Just(".".to_string()),
        "[+.-][a-z0-9.+-]{0,4}",
        "[0-9][a-z0-9+/.-]{0,4}",
        any::<String>(),
        "[ #|\\\\;()\"'`,λ\t\n]{0,5}",
    ]
}

fn leaf() -> impl Strategy<Value = DatumKind> {
    prop_oneof![
        any::<bool>().prop_map(DatumKind::Boolean),
        integer().prop_map(|n| DatumKind::Number(Number::Integer(n))),
        ratio().prop_map(DatumKind::Number),
        real().prop_map(|x| DatumKind::Number(Number::Real(x))),
        any::<char>().prop_map(DatumKind::Character),
        any::<String>().prop_map(DatumKind::String),
        "[ -~λ\n\t\\\\\"]{0,12}".prop_map(DatumKind::String),
        symbol().prop_map(DatumKind::Symbol),
        vec(any::<u8>(), 0..6).prop_map(DatumKind::Bytevector),
        "[a-z][a-z0-9-]{0,8}"
            .prop_filter("a directive", |name| name != "fold-case" && name != "no-fold-case")
            .prop_map(DatumKind::Special),
    ]
}

/// `items . tail` in the reader's canonical form: a tail that is a list is spliced in.
fn dotted(mut items: Vec<Datum>, tail: Datum) -> DatumKind {
    match tail.kind {
        DatumKind::List { items: more, tail } => {
            items.extend(more);
            DatumKind::List { items, tail }
        }
        kind => DatumKind::List { items, tail: Some(Box::new(d(kind))) },
    }
}

/// Small random trees of every kind of datum.
fn datum() -> impl Strategy<Value = Datum> {
    leaf().prop_map(d).prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(|items| d(DatumKind::List { items, tail: None })),
            (vec(inner.clone(), 1..4), inner.clone()).prop_map(|(items, tail)| d(dotted(items, tail))),
            vec(inner.clone(), 0..5).prop_map(|items| d(DatumKind::Vector(items))),
            (prop::sample::select(vec!["quote", "quasiquote", "unquote", "unquote-splicing"]), inner).prop_map(
                |(name, datum)| {
                    d(DatumKind::List { items: vec![d(DatumKind::Symbol(name.to_string())), datum], tail: None })
                }
            ),
        ]
    })
}

/// Checks that `data`, printed, reads back equal; returns the printed text.
fn assert_round_trip(data: &[Datum]) -> Result<String, TestCaseError> {
    let text = data.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" ");
    let again = read_all(&text, 0).map_err(|e| TestCaseError::fail(format!("{text:?} does not read: {e:?}")))?;
    prop_assert_eq!(again.len(), data.len(), "{:?}", text);
    for (a, b) in data.iter().zip(&again) {
        prop_assert!(a.eq_ignoring_spans(b), "{:?} printed as {:?} read back as {:?}", a, text, b);
    }
    Ok(text)
}

/// Checks what `read_all` says about `source`: spans in bounds, and read data print and read back equal.
fn check_any_text(source: &str) -> Result<(), TestCaseError> {
    let len = source.len() as u32;
    match read_all(source, 1) {
        Ok(data) => {
            for datum in &data {
                prop_assert!(datum.span.start <= datum.span.end && datum.span.end <= len, "{:?}", datum);
                prop_assert!(source.is_char_boundary(datum.span.start as usize));
            }
            assert_round_trip(&data)?;
        }
        Err(e) => {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= len, "{:?} for {:?}", e, source);
            prop_assert!(!e.message.is_empty());
            prop_assert_eq!(e.span.file, 1);
            if e.kind == ReadErrorKind::Incomplete {
                // Incomplete means the text ended inside a datum, so it is never about a `)` too many.
                prop_assert!(!e.message.contains("unexpected `)`"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn printed_data_read_back_equal(datum in datum()) {
        assert_round_trip(std::slice::from_ref(&datum))?;
    }

    #[test]
    fn printed_sequences_read_back_equal(data in vec(datum(), 0..6)) {
        let text = assert_round_trip(&data)?;
        // Printing is stable: what was read back prints the same.
        let again = read_all(&text, 0).expect("read above");
        let reprinted = again.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" ");
        prop_assert_eq!(text, reprinted);
    }

    #[test]
    fn any_string_never_panics(source in any::<String>()) {
        check_any_text(&source)?;
    }

    #[test]
    fn scheme_like_text_never_panics(source in "[()#\\\\|;'`,@\" x1.e+\\-\nu8tfi!/=]{0,40}") {
        check_any_text(&source)?;
    }

    #[test]
    fn scheme_tokens_never_panic(parts in vec(prop::sample::select(vec![
        "(", ")", "#(", "#u8(", "'", "`", ",", ",@", "#;", ".", " ", "\n", "#|", "|#", ";", "\"", "\\", "|",
        "#\\", "#\\x", "#\\space", "#t", "#f", "#e", "#x", "#i", "1", "-2", "3/4", ".5", "1e3", "+inf.0",
        "abc", "...", "#!fold-case", "#!eof", "#0=", "\\x41;", "λ", "255", "256",
    ]), 0..30)) {
        check_any_text(&parts.concat())?;
    }
}
