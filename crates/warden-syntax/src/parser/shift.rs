//! Moving an item's spans: an item reused from an earlier parse of its file
//! ([`super::reparse`]) is the same tree at another offset. Every pattern is
//! exhaustive, so that a span added to the tree cannot be missed.

use crate::Span;
use crate::ast::{
    ApprovalReq, ApproverSource, Block, Demand, ExemptItem, Expr, ExprKind, FnItem, Ident, Import,
    ImportTarget, Item, LetItem, Overridability, OverrideClause, Param, PolicyEntry, PolicyItem,
    RuleItem, RuleOutline, Template, TemplatePart, TypeExpr, TypeExprKind,
};

/// Moves the spans of an item that started at `from` to start at `to`; every span of
/// the item is at or after `from`.
pub(super) fn move_item(item: &mut Item, from: usize, to: usize) {
    Mover { from, to }.item(item);
}

struct Mover {
    from: usize,
    to: usize,
}

impl Mover {
    fn span(&self, span: &mut Span) {
        let by = |offset: usize| offset.saturating_sub(self.from) + self.to;
        *span = Span::new(by(span.start), by(span.end));
    }

    fn ident(&self, ident: &mut Ident) {
        self.span(&mut ident.span);
    }

    fn item(&self, item: &mut Item) {
        match item {
            Item::Import(Import {
                target,
                alias,
                span,
            }) => {
                match target {
                    ImportTarget::Std(segments) => segments.iter_mut().for_each(|s| self.ident(s)),
                    ImportTarget::File { path: _, span } => self.span(span),
                }
                alias.iter_mut().for_each(|a| self.ident(a));
                self.span(span);
            }
            Item::Let(item) => self.let_item(item),
            Item::Fn(item) => {
                let FnItem {
                    doc: _,
                    name,
                    params,
                    ret,
                    body: Block { lets, result },
                    span,
                } = &mut **item;
                self.ident(name);
                for Param { name, ty } in params {
                    self.ident(name);
                    self.type_expr(ty);
                }
                self.type_expr(ret);
                lets.iter_mut().for_each(|l| self.let_item(l));
                self.expr(result);
                self.span(span);
            }
            Item::Rule(item) => {
                let RuleItem {
                    doc: _,
                    name,
                    advisory: _,
                    overridable,
                    lets,
                    when,
                    demands,
                    message,
                    span,
                } = &mut **item;
                self.ident(name);
                match overridable {
                    Overridability::Default | Overridability::Never => {}
                    Overridability::Clause(clause) => self.override_clause(clause),
                }
                lets.iter_mut().for_each(|l| self.let_item(l));
                when.iter_mut().for_each(|e| self.expr(e));
                for demand in demands {
                    match demand {
                        Demand::Deny {
                            message,
                            unless,
                            span,
                        } => {
                            self.template(message);
                            unless.iter_mut().for_each(|a| self.approval(a));
                            self.span(span);
                        }
                        Demand::Approval(approval) => self.approval(approval),
                        Demand::Condition {
                            condition,
                            message,
                            deny: _,
                            span,
                        } => {
                            self.expr(condition);
                            self.template(message);
                            self.span(span);
                        }
                    }
                }
                message.iter_mut().for_each(|t| self.template(t));
                self.span(span);
            }
            Item::Exempt(item) => {
                let ExemptItem {
                    doc: _,
                    name,
                    rules,
                    lets,
                    when,
                    span,
                } = &mut **item;
                self.ident(name);
                rules.iter_mut().for_each(|r| self.ident(r));
                lets.iter_mut().for_each(|l| self.let_item(l));
                self.expr(when);
                self.span(span);
            }
            Item::Policy(PolicyItem { entries, span }) => {
                for entry in entries {
                    match entry {
                        PolicyEntry::Overridable(clause) => self.override_clause(clause),
                        PolicyEntry::ApprovalAfterLastPush(span) => self.span(span),
                    }
                }
                self.span(span);
            }
            Item::RuleOutline(RuleOutline { doc: _, name, span }) => {
                self.ident(name);
                self.span(span);
            }
            Item::Error(span) => self.span(span),
        }
    }

    fn let_item(&self, item: &mut LetItem) {
        let LetItem {
            doc: _,
            name,
            ty,
            value,
            span,
        } = item;
        self.ident(name);
        ty.iter_mut().for_each(|t| self.type_expr(t));
        self.expr(value);
        self.span(span);
    }

    fn type_expr(&self, ty: &mut TypeExpr) {
        let TypeExpr { kind, span } = ty;
        match kind {
            TypeExprKind::Named(_) | TypeExprKind::Enum(_) => {}
            TypeExprKind::List(inner)
            | TypeExprKind::Map(inner)
            | TypeExprKind::Optional(inner) => self.type_expr(inner),
        }
        self.span(span);
    }

    fn override_clause(&self, clause: &mut OverrideClause) {
        let OverrideClause {
            by,
            condition,
            span,
        } = clause;
        by.iter_mut().for_each(|e| self.expr(e));
        condition.iter_mut().for_each(|e| self.expr(e));
        self.span(span);
    }

    fn approval(&self, approval: &mut ApprovalReq) {
        let ApprovalReq {
            count,
            source,
            condition,
            allow_stale: _,
            span,
        } = approval;
        self.expr(count);
        match source {
            ApproverSource::Set(e) | ApproverSource::EachTeam(e) | ApproverSource::EachUser(e) => {
                self.expr(e)
            }
        }
        condition.iter_mut().for_each(|e| self.expr(e));
        self.span(span);
    }

    fn template(&self, template: &mut Template) {
        let Template { parts, span } = template;
        for part in parts {
            match part {
                TemplatePart::Text(_) => {}
                TemplatePart::Hole(e) => self.expr(e),
            }
        }
        self.span(span);
    }

    fn expr(&self, expr: &mut Expr) {
        let Expr { kind, span } = expr;
        match kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Anyone
            | ExprKind::Null => {}
            ExprKind::List(items) => items.iter_mut().for_each(|e| self.expr(e)),
            ExprKind::Name(name) => self.ident(name),
            ExprKind::Field {
                base,
                name,
                optional: _,
            } => {
                self.expr(base);
                self.ident(name);
            }
            ExprKind::Call { callee, args } => {
                self.ident(callee);
                args.iter_mut().for_each(|e| self.expr(e));
            }
            ExprKind::MethodCall {
                base,
                name,
                args,
                optional: _,
            } => {
                self.expr(base);
                self.ident(name);
                args.iter_mut().for_each(|e| self.expr(e));
            }
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Lambda { param, body } => {
                self.ident(param);
                self.expr(body);
            }
            ExprKind::Unary { op: _, operand } => self.expr(operand),
            ExprKind::Binary {
                op: _,
                op_span,
                lhs,
                rhs,
            } => {
                self.span(op_span);
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                self.expr(condition);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Paren(inner) => self.expr(inner),
        }
        self.span(span);
    }
}
