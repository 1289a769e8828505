//! `syntax-rules`: pattern matching on syntax and hygienic template instantiation.
//!
//! A use of a macro is matched against each rule's pattern in turn; the first match binds pattern
//! variables to pieces of the use (nested under ellipses as [`Match::Many`]). The template is then copied
//! with pattern variables replaced and every other identifier *renamed*: wrapped with the macro's
//! definition environment and a stamp unique to this expansion, so that it means what it meant where the
//! macro was defined and cannot capture, or be captured by, the user's identifiers.

use chenilles_reader::{DatumKind, Span};

use crate::diagnostics::CompileError;
use crate::expand::{Env, Expander};
use crate::syntax::{Ident, Sx, SxKind, Symbol};

type Result<T> = std::result::Result<T, CompileError>;

/// Macro uses one compilation unit may expand; past this, expansion is taken not to terminate.
pub const MAX_EXPANSIONS: u64 = 5_000_000;

/// Syntax nodes macro expansion may produce in one compilation unit, so that a macro whose output
/// grows exponentially is stopped before it exhausts memory.
pub const MAX_EXPANDED_NODES: u64 = 5_000_000;

/// A parsed `syntax-rules` transformer.
pub struct SyntaxRules {
    pub name: Symbol,
    /// A custom ellipsis identifier, when the transformer names one; otherwise `...`.
    pub ellipsis: Option<Ident>,
    pub literals: Vec<Ident>,
    /// (pattern, template) pairs; each pattern includes the keyword position, which is ignored.
    pub rules: Vec<(Sx, Sx)>,
    /// The environment the macro was defined in: renamed identifiers resolve there.
    pub env: Env,
}

/// What a pattern variable matched.
#[derive(Clone, Debug)]
enum Match {
    One(Sx),
    Many(Vec<Match>),
}

type Bindings = Vec<(Ident, Match)>;

impl SyntaxRules {
    /// Parses `(syntax-rules [ellipsis] (literal ...) (pattern template) ...)`.
    pub fn parse(spec: &Sx, env: &Env, name: &str) -> Result<SyntaxRules> {
        let items = spec.list().unwrap_or(&[]);
        let (ellipsis, rest) = match items.get(1).and_then(Sx::id) {
            Some(id) => (Some(id.clone()), &items[2.min(items.len())..]),
            None => (None, &items[1.min(items.len())..]),
        };
        let Some((literals, rules)) = rest.split_first() else {
            return Err(CompileError::new("bad `syntax-rules`: expected a list of literals", spec.span));
        };
        let literals = literals
            .list()
            .ok_or_else(|| CompileError::new("bad `syntax-rules`: expected a list of literals", literals.span))?
            .iter()
            .map(|l| l.id().cloned().ok_or_else(|| CompileError::new("a literal must be an identifier", l.span)))
            .collect::<Result<Vec<_>>>()?;
        let rules = rules
            .iter()
            .map(|rule| match rule.list() {
                Some([pattern, template]) if matches!(pattern.kind, SxKind::List(..)) => {
                    Ok((pattern.clone(), template.clone()))
                }
                _ => Err(CompileError::new(
                    "bad `syntax-rules` rule: expected ((keyword . pattern) template)",
                    rule.span,
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SyntaxRules { name: name.into(), ellipsis, literals, rules, env: env.clone() })
    }

    fn is_ellipsis(&self, sx: &Sx) -> bool {
        match (sx.id(), &self.ellipsis) {
            (Some(id), Some(custom)) => id.same(custom),
            (Some(id), None) => &**id.name() == "...",
            _ => false,
        }
    }

    fn is_literal(&self, id: &Ident) -> bool {
        self.literals.iter().any(|l| l.same(id))
    }
}

impl Expander<'_> {
    /// Expands one use of `macro_` (the whole form `form`, keyword included) in `env`.
    pub fn apply_macro(&mut self, macro_: &SyntaxRules, form: &Sx, env: &Env) -> Result<Sx> {
        self.expansions += 1;
        if self.expansions > MAX_EXPANSIONS {
            return Err(CompileError::new(
                format!(
                    "macro expansion does not end: more than {MAX_EXPANSIONS} macro uses expanded (last: `{}`)",
                    macro_.name
                ),
                form.span,
            ));
        }
        let (items, tail) = match &form.kind {
            SxKind::List(items, tail) => (items.as_slice(), tail.as_deref()),
            _ => return Err(CompileError::new("a macro use must be a list", form.span)),
        };
        for (pattern, template) in &macro_.rules {
            let SxKind::List(pattern_items, pattern_tail) = &pattern.kind else {
                continue;
            };
            let mut bindings = Vec::new();
            if pattern_items.is_empty() {
                continue;
            }
            if self.match_list(
                macro_,
                &pattern_items[1..],
                pattern_tail.as_deref(),
                &items[1..],
                tail,
                env,
                &mut bindings,
                form.span,
            ) {
                let stamp = self.fresh_stamp();
                let mut renames = Vec::new();
                let mut out = self.instantiate(macro_, template, &bindings, stamp, form.span, &mut renames, false)?;
                if out.len() != 1 {
                    return Err(CompileError::new(
                        format!("the expansion of `{}` is not a single form", macro_.name),
                        form.span,
                    ));
                }
                return Ok(out.remove(0));
            }
        }
        Err(CompileError::new(
            format!("no rule of the macro `{}` matches this use: {}", macro_.name, form.brief()),
            form.span,
        ))
    }

    fn match_pattern(&self, macro_: &SyntaxRules, pattern: &Sx, form: &Sx, env: &Env, bindings: &mut Bindings) -> bool {
        match &pattern.kind {
            SxKind::Id(id) if &**id.name() == "_" && !macro_.is_literal(id) => true,
            SxKind::Id(id) if macro_.is_literal(id) => match form.id() {
                Some(form_id) => self.resolve(form_id, env).same(&self.resolve(id, &macro_.env)),
                None => false,
            },
            SxKind::Id(id) => {
                bindings.push((id.clone(), Match::One(form.clone())));
                true
            }
            SxKind::List(items, tail) => match &form.kind {
                SxKind::List(form_items, form_tail) => self.match_list(
                    macro_,
                    items,
                    tail.as_deref(),
                    form_items,
                    form_tail.as_deref(),
                    env,
                    bindings,
                    form.span,
                ),
                _ => false,
            },
            SxKind::Vector(items) => match &form.kind {
                SxKind::Vector(form_items) => {
                    self.match_list(macro_, items, None, form_items, None, env, bindings, form.span)
                }
                _ => false,
            },
            SxKind::Atom(atom) => {
                matches!(&form.kind, SxKind::Atom(other) if atoms_equal(atom, other))
            }
        }
    }

    /// Matches the list pattern `items . tail` against the list `form_items . form_tail`.
    #[allow(clippy::too_many_arguments)]
    fn match_list(
        &self,
        macro_: &SyntaxRules,
        items: &[Sx],
        tail: Option<&Sx>,
        form_items: &[Sx],
        form_tail: Option<&Sx>,
        env: &Env,
        bindings: &mut Bindings,
        span: Span,
    ) -> bool {
        let ellipsis_at = items.iter().position(|item| macro_.is_ellipsis(item)).and_then(|i| i.checked_sub(1));
        let Some(repeat_at) = ellipsis_at else {
            // No ellipsis: match item by item, then the rest against the tail pattern.
            if form_items.len() < items.len() || (tail.is_none() && form_items.len() != items.len()) {
                return false;
            }
            for (pattern, form) in items.iter().zip(form_items) {
                if !self.match_pattern(macro_, pattern, form, env, bindings) {
                    return false;
                }
            }
            return match tail {
                None => form_tail.is_none(),
                Some(tail) => {
                    let rest = rest_as_sx(&form_items[items.len()..], form_tail, span);
                    self.match_pattern(macro_, tail, &rest, env, bindings)
                }
            };
        };
        let before = &items[..repeat_at];
        let repeated = &items[repeat_at];
        let after = &items[repeat_at + 2..];
        let min = before.len() + after.len();
        if form_items.len() < min || (tail.is_none() && form_tail.is_some()) {
            return false;
        }
        let repeat_count = form_items.len() - min;
        for (pattern, form) in before.iter().zip(form_items) {
            if !self.match_pattern(macro_, pattern, form, env, bindings) {
                return false;
            }
        }
        let vars = pattern_vars(macro_, repeated);
        let mut per_item: Vec<Bindings> = Vec::with_capacity(repeat_count);
        for form in &form_items[before.len()..before.len() + repeat_count] {
            let mut item_bindings = Vec::new();
            if !self.match_pattern(macro_, repeated, form, env, &mut item_bindings) {
                return false;
            }
            per_item.push(item_bindings);
        }
        for var in vars {
            let matches = per_item
                .iter()
                .map(|b| b.iter().find(|(v, _)| v.same(&var)).map_or(Match::Many(Vec::new()), |(_, m)| m.clone()))
                .collect();
            bindings.push((var, Match::Many(matches)));
        }
        for (pattern, form) in after.iter().zip(&form_items[before.len() + repeat_count..]) {
            if !self.match_pattern(macro_, pattern, form, env, bindings) {
                return false;
            }
        }
        match tail {
            None => true,
            Some(tail) => {
                let rest = rest_as_sx(&[], form_tail, span);
                self.match_pattern(macro_, tail, &rest, env, bindings)
            }
        }
    }

    /// Copies `template`; returns several forms when the template is followed by ellipses in its list.
    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        &mut self,
        macro_: &SyntaxRules,
        template: &Sx,
        bindings: &Bindings,
        stamp: u32,
        span: Span,
        renames: &mut Vec<(Ident, Ident)>,
        escaped: bool,
    ) -> Result<Vec<Sx>> {
        self.charge_copy(1, macro_, template.span)?;
        let one = |kind| Ok(vec![Sx::new(kind, span)]);
        match &template.kind {
            SxKind::Id(id) => {
                if let Some((_, matched)) = bindings.iter().rev().find(|(v, _)| v.same(id)) {
                    return match matched {
                        Match::One(sx) => {
                            self.charge_copy(syntax_size(sx), macro_, template.span)?;
                            Ok(vec![sx.clone()])
                        }
                        Match::Many(_) => Err(CompileError::new(
                            format!(
                                "in macro `{}`: pattern variable `{}` is used with too few ellipses",
                                macro_.name,
                                id.name()
                            ),
                            template.span,
                        )),
                    };
                }
                if let Some((_, renamed)) = renames.iter().find(|(original, _)| original.same(id)) {
                    return one(SxKind::Id(renamed.clone()));
                }
                let renamed = Ident::renamed(id.clone(), macro_.env.clone(), stamp);
                renames.push((id.clone(), renamed.clone()));
                one(SxKind::Id(renamed))
            }
            SxKind::List(items, tail) => {
                if !escaped
                    && let [first, inner] = items.as_slice()
                    && tail.is_none()
                    && macro_.is_ellipsis(first)
                {
                    // (... template): ellipses inside stand for themselves.
                    return self.instantiate(macro_, inner, bindings, stamp, span, renames, true);
                }
                let out = self.instantiate_items(macro_, items, bindings, stamp, span, renames, escaped)?;
                let tail = match tail {
                    Some(tail) => {
                        let mut t = self.instantiate(macro_, tail, bindings, stamp, span, renames, escaped)?;
                        if t.len() != 1 {
                            return Err(CompileError::new("an ellipsis cannot follow a dotted tail", tail.span));
                        }
                        Some(Box::new(t.remove(0)))
                    }
                    None => None,
                };
                one(normalized_list(out, tail))
            }
            SxKind::Vector(items) => {
                let out = self.instantiate_items(macro_, items, bindings, stamp, span, renames, escaped)?;
                one(SxKind::Vector(out))
            }
            SxKind::Atom(_) => Ok(vec![template.clone()]),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn instantiate_items(
        &mut self,
        macro_: &SyntaxRules,
        items: &[Sx],
        bindings: &Bindings,
        stamp: u32,
        span: Span,
        renames: &mut Vec<(Ident, Ident)>,
        escaped: bool,
    ) -> Result<Vec<Sx>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let item = &items[i];
            let mut depth = 0;
            while !escaped && items.get(i + 1 + depth).is_some_and(|next| macro_.is_ellipsis(next)) {
                depth += 1;
            }
            if depth == 0 {
                out.extend(self.instantiate(macro_, item, bindings, stamp, span, renames, escaped)?);
            } else {
                self.instantiate_repeated(macro_, item, depth, bindings, stamp, span, renames, &mut out)?;
            }
            i += 1 + depth;
        }
        Ok(out)
    }

    /// Copies `template` once for each element the pattern variables in it matched under an ellipsis.
    #[allow(clippy::too_many_arguments)]
    fn instantiate_repeated(
        &mut self,
        macro_: &SyntaxRules,
        template: &Sx,
        depth: usize,
        bindings: &Bindings,
        stamp: u32,
        span: Span,
        renames: &mut Vec<(Ident, Ident)>,
        out: &mut Vec<Sx>,
    ) -> Result<()> {
        let mut used = Vec::new();
        template_ids(template, &mut used);
        // The innermost binding of each pattern variable the template uses, if it still repeats.
        let mut iterated: Vec<(Ident, Vec<Match>)> = Vec::new();
        let mut seen: Vec<&Ident> = Vec::new();
        for (var, matched) in bindings.iter().rev() {
            if seen.iter().any(|s| s.same(var)) || !used.iter().any(|u| u.same(var)) {
                continue;
            }
            seen.push(var);
            if let Match::Many(items) = matched {
                iterated.push((var.clone(), items.clone()));
            }
        }
        let Some(count) = iterated.iter().map(|(_, items)| items.len()).max() else {
            return Err(CompileError::new(
                format!("in macro `{}`: an ellipsis follows a template without pattern variables", macro_.name),
                template.span,
            ));
        };
        if iterated.iter().any(|(_, items)| items.len() != count) {
            return Err(CompileError::new(
                format!(
                    "in macro `{}`: pattern variables under one ellipsis matched lists of different lengths",
                    macro_.name
                ),
                span,
            ));
        }
        // One copy of the bindings for all the repetitions (a copy each would be quadratic in the
        // length of what the ellipsis matched); each repetition's own bindings shadow the rest.
        let mut inner: Bindings = bindings.clone();
        let outer = inner.len();
        for index in 0..count {
            inner.truncate(outer);
            for (var, items) in &iterated {
                inner.push((var.clone(), items[index].clone()));
            }
            if depth > 1 {
                self.instantiate_repeated(macro_, template, depth - 1, &inner, stamp, span, renames, out)?;
            } else {
                out.extend(self.instantiate(macro_, template, &inner, stamp, span, renames, false)?);
            }
        }
        Ok(())
    }
}

/// The number of nodes of a syntax object.
fn syntax_size(sx: &Sx) -> u64 {
    let mut size = 0;
    let mut stack = vec![sx];
    while let Some(sx) = stack.pop() {
        size += 1;
        match &sx.kind {
            SxKind::List(items, tail) => {
                stack.extend(items.iter());
                stack.extend(tail.as_deref());
            }
            SxKind::Vector(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    size
}

impl Expander<'_> {
    fn charge_copy(&mut self, nodes: u64, macro_: &SyntaxRules, span: Span) -> Result<()> {
        self.expanded_nodes += nodes;
        if self.expanded_nodes > MAX_EXPANDED_NODES {
            return Err(CompileError::new(
                format!(
                    "macro expansion grows without bound: more than {MAX_EXPANDED_NODES} syntax nodes produced (last by `{}`)",
                    macro_.name
                ),
                span,
            ));
        }
        Ok(())
    }
}

/// The pattern variables of `pattern`.
fn pattern_vars(macro_: &SyntaxRules, pattern: &Sx) -> Vec<Ident> {
    let mut vars = Vec::new();
    let mut stack = vec![pattern];
    while let Some(sx) = stack.pop() {
        match &sx.kind {
            SxKind::Id(id) => {
                if !macro_.is_literal(id) && !macro_.is_ellipsis(sx) && &**id.name() != "_" {
                    vars.push(id.clone());
                }
            }
            SxKind::List(items, tail) => {
                stack.extend(items.iter());
                stack.extend(tail.as_deref());
            }
            SxKind::Vector(items) => stack.extend(items.iter()),
            SxKind::Atom(_) => {}
        }
    }
    vars
}

fn template_ids(template: &Sx, out: &mut Vec<Ident>) {
    match &template.kind {
        SxKind::Id(id) => out.push(id.clone()),
        SxKind::List(items, tail) => {
            items.iter().for_each(|item| template_ids(item, out));
            if let Some(tail) = tail {
                template_ids(tail, out);
            }
        }
        SxKind::Vector(items) => items.iter().for_each(|item| template_ids(item, out)),
        SxKind::Atom(_) => {}
    }
}

/// `items . tail` with a list tail spliced in, so `(a . (b c))` becomes `(a b c)` as the reader would.
fn normalized_list(mut items: Vec<Sx>, mut tail: Option<Box<Sx>>) -> SxKind {
    while let Some(t) = tail.take() {
        match t.kind {
            SxKind::List(more, rest) => {
                items.extend(more);
                tail = rest;
            }
            _ => {
                tail = Some(t);
                break;
            }
        }
    }
    if items.is_empty()
        && let Some(t) = tail
    {
        return t.kind;
    }
    SxKind::List(items, tail)
}

/// The list `items . tail` as one syntax object.
fn rest_as_sx(items: &[Sx], tail: Option<&Sx>, span: Span) -> Sx {
    if items.is_empty() {
        return tail.cloned().unwrap_or_else(|| Sx::new(SxKind::List(Vec::new(), None), span));
    }
    Sx::new(SxKind::List(items.to_vec(), tail.map(|t| Box::new(t.clone()))), span)
}

fn atoms_equal(a: &DatumKind, b: &DatumKind) -> bool {
    a == b
}
