//! Syntax objects: the reader's data with identifiers that remember where a macro inserted them.
//!
//! An [`Ident`] is either a plain symbol from the source or a *renamed* identifier that a macro template
//! inserted: it keeps the identifier it stands for and the environment of the macro's definition, so it
//! refers to what it meant there (hygiene), and binding forms that bind it never capture the user's
//! identifiers of the same name.

use std::fmt;
use std::sync::Arc;

use chenilles_reader::{Datum, DatumKind, Number, Span};

use crate::expand::Env;

/// An interned-by-value symbol name.
pub type Symbol = Arc<str>;

/// An identifier in syntax. Cheap to clone.
#[derive(Clone)]
pub struct Ident(Arc<IdentData>);

enum IdentData {
    Plain(Symbol),
    Renamed { original: Ident, env: Env, stamp: u32 },
}

impl Ident {
    pub fn plain(name: &str) -> Ident {
        Ident(Arc::new(IdentData::Plain(name.into())))
    }

    pub fn renamed(original: Ident, env: Env, stamp: u32) -> Ident {
        Ident(Arc::new(IdentData::Renamed { original, env, stamp }))
    }

    /// The symbol this identifier was written as, with every renaming stripped.
    pub fn name(&self) -> &Symbol {
        match &*self.0 {
            IdentData::Plain(name) => name,
            IdentData::Renamed { original, .. } => original.name(),
        }
    }

    /// For a renamed identifier, the identifier it stands for and the environment it came from.
    pub fn renaming(&self) -> Option<(&Ident, &Env)> {
        match &*self.0 {
            IdentData::Plain(_) => None,
            IdentData::Renamed { original, env, .. } => Some((original, env)),
        }
    }

    /// Whether both are the very same identifier (`bound-identifier=?`).
    pub fn same(&self, other: &Ident) -> bool {
        match (&*self.0, &*other.0) {
            (IdentData::Plain(a), IdentData::Plain(b)) => a == b,
            (IdentData::Renamed { stamp: a, .. }, IdentData::Renamed { stamp: b, .. }) => {
                a == b && Arc::ptr_eq(&self.0, &other.0)
            }
            _ => false,
        }
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            IdentData::Plain(name) => write!(f, "{name}"),
            IdentData::Renamed { original, stamp, .. } => write!(f, "{original:?}#{stamp}"),
        }
    }
}

/// A syntax object: a datum whose symbols are [`Ident`]s, with its span.
#[derive(Clone, Debug)]
pub struct Sx {
    pub kind: SxKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum SxKind {
    Id(Ident),
    /// A list; `tail` is present for an improper list.
    List(Vec<Sx>, Option<Box<Sx>>),
    Vector(Vec<Sx>),
    /// Anything else: numbers, strings, characters, booleans, bytevectors, `#!` specials.
    Atom(DatumKind),
}

impl Sx {
    pub fn new(kind: SxKind, span: Span) -> Sx {
        Sx { kind, span }
    }

    pub fn from_datum(datum: &Datum) -> Sx {
        let kind = match &datum.kind {
            DatumKind::Symbol(name) => SxKind::Id(Ident::plain(name)),
            DatumKind::List { items, tail } => SxKind::List(
                items.iter().map(Sx::from_datum).collect(),
                tail.as_ref().map(|t| Box::new(Sx::from_datum(t))),
            ),
            DatumKind::Vector(items) => SxKind::Vector(items.iter().map(Sx::from_datum).collect()),
            other => SxKind::Atom(other.clone()),
        };
        Sx { kind, span: datum.span }
    }

    pub fn id(&self) -> Option<&Ident> {
        match &self.kind {
            SxKind::Id(id) => Some(id),
            _ => None,
        }
    }

    /// The items of a proper list.
    pub fn list(&self) -> Option<&[Sx]> {
        match &self.kind {
            SxKind::List(items, None) => Some(items),
            _ => None,
        }
    }

    /// The data this syntax denotes when quoted: identifiers become their symbols.
    pub fn to_quoted(&self) -> Quoted {
        match &self.kind {
            SxKind::Id(id) => Quoted::Symbol(id.name().clone()),
            SxKind::List(items, tail) => {
                if items.is_empty() && tail.is_none() {
                    return Quoted::Nil;
                }
                Quoted::List(
                    items.iter().map(Sx::to_quoted).collect(),
                    Box::new(tail.as_ref().map_or(Quoted::Nil, |t| t.to_quoted())),
                )
            }
            SxKind::Vector(items) => Quoted::Vector(items.iter().map(Sx::to_quoted).collect()),
            SxKind::Atom(atom) => Quoted::from_atom(atom),
        }
    }

    /// The same syntax with every identifier in lower case (`include-ci`).
    pub fn fold_case(self) -> Sx {
        let kind = match self.kind {
            SxKind::Id(id) => SxKind::Id(Ident::plain(&id.name().to_lowercase())),
            SxKind::List(items, tail) => {
                SxKind::List(items.into_iter().map(Sx::fold_case).collect(), tail.map(|t| Box::new(t.fold_case())))
            }
            SxKind::Vector(items) => SxKind::Vector(items.into_iter().map(Sx::fold_case).collect()),
            atom @ SxKind::Atom(_) => atom,
        };
        Sx { kind, span: self.span }
    }

    /// A short rendering of the syntax for error messages.
    pub fn brief(&self) -> String {
        let mut text = self.to_quoted().to_string();
        if text.chars().count() > 60 {
            text = text.chars().take(57).collect::<String>() + "...";
        }
        text
    }
}

/// A constant value as the compiler knows it: what `quote` produces and literals denote.
#[derive(Clone, Debug, PartialEq)]
pub enum Quoted {
    Unspecified,
    Nil,
    Boolean(bool),
    Integer(num_bigint::BigInt),
    /// An exact ratio in lowest terms, denominator > 1.
    Rational(num_bigint::BigInt, num_bigint::BigInt),
    Real(f64),
    Character(char),
    String(String),
    Symbol(Symbol),
    Bytevector(Vec<u8>),
    List(Vec<Quoted>, Box<Quoted>),
    Vector(Vec<Quoted>),
    /// Reader `#!` objects other than the ones the compiler gives meaning to.
    Special(String),
}

impl Quoted {
    pub fn from_atom(atom: &DatumKind) -> Quoted {
        match atom {
            DatumKind::Boolean(b) => Quoted::Boolean(*b),
            DatumKind::Number(Number::Integer(n)) => Quoted::Integer(n.clone()),
            DatumKind::Number(Number::Real(x)) => Quoted::Real(*x),
            DatumKind::Number(Number::Rational(n, d)) => Quoted::Rational(n.clone(), d.clone()),
            DatumKind::Character(c) => Quoted::Character(*c),
            DatumKind::String(s) => Quoted::String(s.clone()),
            DatumKind::Symbol(s) => Quoted::Symbol(s.as_str().into()),
            DatumKind::Bytevector(b) => Quoted::Bytevector(b.clone()),
            DatumKind::Special(name) => Quoted::Special(name.clone()),
            DatumKind::List { .. } | DatumKind::Vector(_) => Quoted::Unspecified,
        }
    }
}

impl fmt::Display for Quoted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quoted::Unspecified => write!(f, "#<unspecified>"),
            Quoted::Nil => write!(f, "()"),
            Quoted::Boolean(b) => write!(f, "{}", if *b { "#t" } else { "#f" }),
            Quoted::Integer(n) => write!(f, "{n}"),
            Quoted::Rational(n, d) => write!(f, "{n}/{d}"),
            Quoted::Real(x) => write!(f, "{x:?}"),
            Quoted::Character(c) => write!(f, "#\\{c}"),
            Quoted::String(s) => write!(f, "{s:?}"),
            Quoted::Symbol(s) => write!(f, "{s}"),
            Quoted::Bytevector(b) => write!(f, "#u8{b:?}"),
            Quoted::Special(name) => write!(f, "#!{name}"),
            Quoted::List(items, tail) => {
                write!(f, "(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{item}")?;
                }
                if **tail != Quoted::Nil {
                    write!(f, " . {tail}")?;
                }
                write!(f, ")")
            }
            Quoted::Vector(items) => {
                write!(f, "#(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, ")")
            }
        }
    }
}
