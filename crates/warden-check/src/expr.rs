//! Type-checks expressions and lowers them to IR: name resolution, fields, methods,
//! operators. A bad expression gets `Type::Error`, which fits everything, so one
//! mistake produces one diagnostic.

use std::fmt;
use warden_syntax::Code;

use warden_syntax::{Span, ast};

use crate::builtins::{self, LambdaBody, Param, Returns};
use crate::checker::{Body, Checker, FAILED_IMPORT, Owner};
use crate::index::{SymbolKind, Target};
use crate::ir::{self, ExprKind};
use crate::ty::Type;

impl Checker<'_> {
    fn node(&self, body: &Body, kind: ExprKind, ty: Type, span: Span) -> ir::Expr {
        ir::Expr {
            kind,
            ty,
            file: Self::file_id(body.file),
            span,
        }
    }

    fn invalid(&self, body: &Body, span: Span) -> ir::Expr {
        self.node(body, ExprKind::Null, Type::Error, span)
    }

    /// Checks an expression used as a condition: it must be a definite `bool`.
    pub fn condition(
        &mut self,
        body: &mut Body,
        expr: &ast::Expr,
        what: fmt::Arguments<'_>,
    ) -> ir::Expr {
        let lowered = self.expr(body, expr);
        if lowered.ty.is_optional() && lowered.ty.unwrap_optional().fits(&Type::Bool) {
            self.report(
                body.file,
                expr.span,
                Code::OptionalCondition,
                format!("{what} is `bool?`, which may be missing"),
                "may be null",
                Some(
                    "missing is not false: decide what it means with `?? false` or `?? true`"
                        .to_string(),
                ),
            );
            let text = self.source(body.file, expr.span).to_owned();
            for default in ["false", "true"] {
                self.replace_with(expr.span, Some(format!("({text} ?? {default})")));
            }
            return ir::Expr {
                ty: Type::Error,
                ..lowered
            };
        }
        self.expect_type(body.file, &lowered, &Type::Bool, what);
        lowered
    }

    /// The receiver of `.name` or `.name(…)`, its type recorded for the language
    /// server's completion after the `.` (no other expression's type is asked for, and
    /// keeping every expression's would take a fifth of the index).
    fn receiver_expr(&mut self, body: &mut Body, base: &ast::Expr) -> ir::Expr {
        let lowered = self.expr(body, base);
        self.typed(body.file, base.span, &lowered.ty);
        lowered
    }

    pub fn expr(&mut self, body: &mut Body, expr: &ast::Expr) -> ir::Expr {
        let span = expr.span;
        match &expr.kind {
            ast::ExprKind::Bool(value) => self.node(body, ExprKind::Bool(*value), Type::Bool, span),
            ast::ExprKind::Int(value) => self.node(body, ExprKind::Int(*value), Type::Int, span),
            ast::ExprKind::Duration(seconds) => {
                self.node(body, ExprKind::Duration(*seconds), Type::Duration, span)
            }
            ast::ExprKind::Str(text) => {
                self.node(body, ExprKind::Str(text.as_str().into()), Type::Str, span)
            }
            ast::ExprKind::Anyone => self.node(body, ExprKind::Anyone, Type::Approvers, span),
            ast::ExprKind::Null => self.node(body, ExprKind::Null, Type::Null, span),
            ast::ExprKind::List(items) => self.list(body, items, span),
            ast::ExprKind::Name(ident) => self.name(body, ident),
            ast::ExprKind::Field {
                base,
                name,
                optional,
            } => self.field(body, base, name, *optional, span),
            ast::ExprKind::Call { callee, args } => self.call(body, callee, args, span),
            ast::ExprKind::MethodCall {
                base,
                name,
                args,
                optional,
            } => self.method_call(body, base, name, args, *optional, span),
            ast::ExprKind::Index { base, index } => self.index(body, base, index, span),
            ast::ExprKind::Lambda { .. } => {
                self.report(
                    body.file,
                    span,
                    Code::MisplacedLambda,
                    "a lambda can only be an argument of a list method".to_string(),
                    "not allowed here",
                    Some(
                        "use it in `any`, `all`, `filter`, `map`, …: `change.files.any(f => …)`"
                            .to_string(),
                    ),
                );
                self.invalid(body, span)
            }
            ast::ExprKind::Unary { op, operand } => self.unary(body, *op, operand, span),
            ast::ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(body, *op, *op_span, lhs, rhs, span),
            ast::ExprKind::If {
                condition,
                then,
                otherwise,
            } => {
                let condition = self.condition(body, condition, format_args!("an `if` condition"));
                let then = self.expr(body, then);
                let otherwise = self.expr(body, otherwise);
                let ty = match then.ty.join(&otherwise.ty) {
                    Some(ty) => ty,
                    None => {
                        self.report(
                            body.file,
                            otherwise.span,
                            Code::TypeMismatch,
                            format!(
                                "the branches of `if` differ: `{}` and `{}`",
                                then.ty, otherwise.ty
                            ),
                            &format!("this is `{}`", otherwise.ty),
                            Some("both branches must give the same type".to_string()),
                        );
                        Type::Error
                    }
                };
                let kind = ExprKind::If {
                    condition: Box::new(condition),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                };
                self.node(body, kind, ty, span)
            }
            ast::ExprKind::Paren(inner) => {
                let inner = self.expr(body, inner);
                ir::Expr { span, ..inner }
            }
        }
    }

    fn list(&mut self, body: &mut Body, items: &[ast::Expr], span: Span) -> ir::Expr {
        let mut element: Option<Type> = None;
        let mut lowered = Vec::with_capacity(items.len());
        for item in items {
            let item = self.expr(body, item);
            let Some(so_far) = &element else {
                element = Some(item.ty.clone());
                lowered.push(item);
                continue;
            };
            match so_far.join(&item.ty) {
                Some(joined) => element = Some(joined),
                None => {
                    self.report(
                        body.file,
                        item.span,
                        Code::TypeMismatch,
                        format!("list elements differ: `{so_far}` and `{}`", item.ty),
                        &format!("this is `{}`", item.ty),
                        Some("every element of a list has the same type".to_string()),
                    );
                    element = Some(Type::Error);
                }
            }
            lowered.push(item);
        }
        self.node(
            body,
            ExprKind::List(lowered),
            Type::list(element.unwrap_or(Type::Null)),
            span,
        )
    }

    fn depend(&mut self, body: &Body, target: Owner, span: Span) {
        match body.owner {
            Some(owner) => self.deps.push((owner, target, body.file, span)),
            None => self.used_by_policy.push(target),
        }
    }

    fn is_local(body: &Body, name: &str) -> bool {
        body.bindings.iter().any(|b| b.name == name)
    }

    /// The module an identifier names, when it is an import alias not shadowed by a local.
    fn module_alias(&mut self, body: &Body, base: &ast::Expr) -> Option<usize> {
        let ast::ExprKind::Name(ident) = &base.kind else {
            return None;
        };
        if Self::is_local(body, &ident.name) {
            return None;
        }
        let import = self
            .modules
            .get_mut(body.file)?
            .imports
            .get_mut(&ident.name)?;
        import.used = true;
        let (target, place) = (import.target, import.span.start);
        if let Some(recording) = self.recording.as_deref_mut() {
            recording.imports.push(ident.name.clone());
        }
        self.refer_to(body.file, ident.span, (body.file, place), &Type::Error);
        Some(target)
    }

    fn name(&mut self, body: &mut Body, ident: &ast::Ident) -> ir::Expr {
        let span = ident.span;
        if let Some(binding) = body
            .bindings
            .iter_mut()
            .rev()
            .find(|b| b.name == ident.name)
        {
            binding.used = true;
            let (slot, ty, place) = (binding.slot, binding.ty.clone(), binding.span.start);
            self.refer_to(body.file, span, (body.file, place), &ty);
            return self.node(body, ExprKind::Local(slot), ty, span);
        }
        if ident.name == "change" {
            let ty = Type::record("Change");
            self.refer(body.file, span, Target::Change, &ty);
            return self.node(body, ExprKind::Change, ty, span);
        }
        let scope = self.modules.get(body.file);
        if let Some(&id) = scope.and_then(|s| s.lets.get(&ident.name)) {
            let node = self.global(body, id, span);
            if let Some(place) = self.global_place(id) {
                self.refer_to(body.file, span, place, &node.ty);
            }
            return node;
        }
        if let Some(place) = self.item_place(body.file, &ident.name) {
            // A function or module used as a value: an error, but still a use.
            self.refer_to(body.file, span, place, &Type::Error);
        }
        let scope = self.modules.get(body.file);
        let mut replacement = None;
        let (message, label, help) = if scope.is_some_and(|s| s.fns.contains_key(&ident.name)) {
            (
                format!("function `{}` used as a value", ident.name),
                "a function",
                format!("call it: `{}(…)`", ident.name),
            )
        } else if scope.is_some_and(|s| s.imports.contains_key(&ident.name)) {
            (
                format!("module `{}` used as a value", ident.name),
                "a module",
                format!("use one of its items: `{}.NAME`", ident.name),
            )
        } else if matches!(ident.name.as_str(), "approver" | "override") {
            let place = if ident.name == "approver" {
                "an approval's `where` condition"
            } else {
                "an `overridable … where` condition"
            };
            (
                format!("`{}` is only defined in {place}", ident.name),
                "not defined here",
                "move this condition into that clause".to_string(),
            )
        } else {
            let mut candidates: Vec<&str> = body.bindings.iter().map(|b| b.name.as_str()).collect();
            candidates.push("change");
            if let Some(scope) = scope {
                candidates.extend(scope.lets.keys().map(String::as_str));
            }
            replacement = self.suggest(&ident.name, candidates).map(str::to_string);
            let help = match &replacement {
                Some(close) => format!("did you mean `{close}`?"),
                None => "names are `change`, locals bound with `let`, lambda parameters, and top-level `let`s".to_string(),
            };
            (
                format!("unknown name `{}`", ident.name),
                "not defined",
                help,
            )
        };
        self.report(
            body.file,
            span,
            Code::UnknownName,
            message,
            label,
            Some(help),
        );
        self.replace_with(ident.span, replacement);
        self.invalid(body, span)
    }

    /// `module.item` where `item` is a `let` of an imported module.
    fn module_member(
        &mut self,
        body: &mut Body,
        module: usize,
        name: &ast::Ident,
        span: Span,
    ) -> ir::Expr {
        let scope = self.modules.get(module);
        if let Some(&id) = scope.and_then(|s| s.lets.get(&name.name)) {
            let node = self.global(body, id, span);
            if let Some(place) = self.global_place(id) {
                self.refer_to(body.file, name.span, place, &node.ty);
            }
            return node;
        }
        let is_fn = scope.is_some_and(|s| s.fns.contains_key(&name.name));
        let (message, help) = if is_fn {
            (
                format!("function `{}` used as a value", name.name),
                format!("call it: `{}(…)`", name.name),
            )
        } else {
            let candidates: Vec<&str> = scope
                .map(|s| {
                    s.lets
                        .keys()
                        .chain(s.fns.keys())
                        .map(String::as_str)
                        .collect()
                })
                .unwrap_or_default();
            let help = match self.suggest(&name.name, candidates.iter().copied()) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!(
                    "the module defines {}",
                    crate::checker::quoted_list(&candidates, "")
                ),
            };
            (
                format!(
                    "module `{}` has no item `{}`",
                    self.module_name(module),
                    name.name
                ),
                help,
            )
        };
        self.report(
            body.file,
            name.span,
            Code::UnknownName,
            message,
            "not found",
            Some(help),
        );
        self.invalid(body, span)
    }

    /// A read of a top-level `let`.
    fn global(&mut self, body: &Body, id: ir::GlobalId, span: Span) -> ir::Expr {
        self.depend(body, Owner::Global(id), span);
        let ty = self.check_global(id);
        self.node(body, ExprKind::Global(id), ty, span)
    }

    fn module_name(&self, module: usize) -> String {
        let path = self.files.get(module).map_or("", |f| f.path.as_str());
        match path.strip_prefix("std/") {
            Some(rest) => format!("std.{}", rest.trim_end_matches(".warden").replace('/', ".")),
            None => path.to_string(),
        }
    }

    fn field(
        &mut self,
        body: &mut Body,
        base: &ast::Expr,
        name: &ast::Ident,
        optional: bool,
        span: Span,
    ) -> ir::Expr {
        if let Some(module) = self.module_alias(body, base) {
            if module == FAILED_IMPORT {
                return self.invalid(body, span);
            }
            return self.module_member(body, module, name, span);
        }
        let base = self.receiver_expr(body, base);
        let Some(receiver) = self.receiver(body, &base, optional, format_args!(".{}", name.name))
        else {
            return self.invalid(body, span);
        };
        let Type::Record(record) = receiver else {
            let help = match receiver {
                Type::Map(_) => format!(
                    "read a map entry with `[\"{}\"]` or `.get(\"{}\")`",
                    name.name, name.name
                ),
                _ => "only records of the change model have fields".to_string(),
            };
            self.report(
                body.file,
                name.span,
                Code::UnknownField,
                format!("`{receiver}` has no field `{}`", name.name),
                "no such field",
                Some(help),
            );
            return self.invalid(body, span);
        };
        let fields = self.fields.get(record).cloned().unwrap_or_default();
        let Some(index) = fields.iter().position(|(field, _)| *field == name.name) else {
            let names: Vec<&str> = fields.iter().map(|(field, _)| *field).collect();
            let replacement = self
                .suggest(&name.name, names.iter().copied())
                .map(str::to_string);
            let help = match &replacement {
                Some(close) => format!("did you mean `{close}`?"),
                None if builtins::method(&receiver, &name.name).is_some() => format!(
                    "`{}` is a method: call it with `.{}(…)`",
                    name.name, name.name
                ),
                None => format!(
                    "`{receiver}` has {}",
                    crate::checker::quoted_list(&names, "")
                ),
            };
            self.report(
                body.file,
                name.span,
                Code::UnknownField,
                format!("unknown field `{}` on `{receiver}`", name.name),
                &format!("not a field of `{receiver}`"),
                Some(help),
            );
            self.replace_with(name.span, replacement);
            return self.invalid(body, span);
        };
        let mut ty = fields.get(index).map_or(Type::Error, |(_, ty)| ty.clone());
        if base.ty.is_optional() {
            ty = Type::optional(ty);
        }
        self.refer(
            body.file,
            name.span,
            Target::Field {
                record,
                field: index,
            },
            &ty,
        );
        let kind = ExprKind::Field {
            base: Box::new(base),
            field: index,
            optional,
        };
        self.node(body, kind, ty, span)
    }

    /// The type a `.`/`?.` access works on; reports a `.` on an optional value.
    fn receiver(
        &mut self,
        body: &Body,
        base: &ir::Expr,
        optional: bool,
        access: fmt::Arguments<'_>,
    ) -> Option<Type> {
        match &base.ty {
            Type::Error => None,
            Type::Null => {
                self.report(
                    body.file,
                    base.span,
                    Code::OptionalAccess,
                    "this value is always null".to_string(),
                    "always null",
                    Some("remove the access".to_string()),
                );
                None
            }
            Type::Optional(inner) => {
                if !optional {
                    let text = self.snippet(body.file, base.span);
                    self.report(
                        body.file,
                        base.span,
                        Code::OptionalAccess,
                        format!("`{text}` may be missing, so `{access}` needs `?.`"),
                        &format!("this is `{}`", base.ty),
                        Some(format!(
                            "write `{text}?{access}`, or supply a default with `??`"
                        )),
                    );
                    // The `.` right after the value (blank space between them aside)
                    // becomes `?.`.
                    let after = base.span.end;
                    let dot = (self.files.get(body.file))
                        .and_then(|f| f.text.get(after..))
                        .and_then(|rest| {
                            rest.find(|c: char| !c.is_whitespace())
                                .filter(|&i| rest[i..].starts_with('.'))
                        });
                    if let Some(dot) = dot {
                        let at = Span::new(after + dot, after + dot + 1);
                        self.replace_with(at, Some("?.".to_owned()));
                    }
                }
                Some((**inner).clone())
            }
            other => Some(other.clone()),
        }
    }

    /// The source text of `span`, as written.
    fn source(&self, file: usize, span: Span) -> &str {
        (self.files.get(file))
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("")
    }

    pub fn snippet(&self, file: usize, span: Span) -> String {
        let text = self
            .files
            .get(file)
            .and_then(|f| f.text.get(span.start..span.end))
            .unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn index(
        &mut self,
        body: &mut Body,
        base: &ast::Expr,
        index: &ast::Expr,
        span: Span,
    ) -> ir::Expr {
        let base = self.expr(body, base);
        let index = self.expr(body, index);
        let (key, element) = match &base.ty {
            Type::Error => (Type::Error, Type::Error),
            Type::List(element) => (Type::Int, (**element).clone()),
            Type::Map(value) => (Type::Str, (**value).clone()),
            other => {
                self.report(
                    body.file,
                    base.span,
                    Code::TypeMismatch,
                    format!("`{other}` cannot be indexed"),
                    &format!("this is `{other}`"),
                    Some("only lists (by position) and maps (by key) can be indexed".to_string()),
                );
                (Type::Error, Type::Error)
            }
        };
        self.expect_type(body.file, &index, &key, format_args!("the index"));
        let kind = ExprKind::Index {
            base: Box::new(base),
            index: Box::new(index),
        };
        self.node(body, kind, Type::optional(element), span)
    }

    /// Checks the argument of a built-in function taking an id. The record the id names,
    /// passed instead, gets its own help: `principal(change.author)` (as in the brief's
    /// sketch) passes what is already the principal, `user(review.reviewer)` a principal
    /// instead of its id.
    fn builtin_argument(
        &mut self,
        file: usize,
        name: &str,
        arg: &ir::Expr,
        param: &Type,
        ret: &Type,
    ) -> bool {
        let record = arg.ty.unwrap_optional();
        let identified = builtins::identified_record(name);
        let Some((_, key)) = identified.filter(|(named, _)| Type::record(named) == *record) else {
            return self.expect_type(file, arg, param, format_args!("the argument of `{name}`"));
        };
        let text = self.snippet(file, arg.span);
        let (message, help) = if record == ret.unwrap_optional() {
            (
                format!("`{text}` is already a `{record}`"),
                format!("read its fields directly: `{text}.FIELD`, not `{name}({text}).FIELD`"),
            )
        } else {
            (
                format!("`{name}` takes the `{key}` of a `{record}`, not the record"),
                format!("pass `{name}({text}.{key})`"),
            )
        };
        self.report(
            file,
            arg.span,
            Code::TypeMismatch,
            message,
            &format!("this is `{}`", arg.ty),
            Some(help),
        );
        false
    }

    fn call(
        &mut self,
        body: &mut Body,
        callee: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> ir::Expr {
        let name = callee.name.as_str();
        if let Some(&id) = self.modules.get(body.file).and_then(|s| s.fns.get(name)) {
            return self.call_function(body, id, callee, args, span);
        }
        if self.indexing()
            && let Some(&function) = (builtins::FUNCTION_NAMES.iter()).find(|f| **f == name)
        {
            let target = Target::Function(function);
            self.refer(body.file, callee.span, target.clone(), &Type::Error);
            self.record_call(body.file, span, callee.span, target, args);
        }
        match name {
            "glob" => return self.glob_call(body, args, span),
            "regex" | "timestamp" | "duration" => return self.literal_call(body, name, args, span),
            _ => {}
        }
        if let Some((op, param, ret)) = builtins::function(name) {
            if !self.arity(body, name, args.len(), 1, span) {
                return self.invalid(body, span);
            }
            let lowered: Vec<ir::Expr> = args.iter().map(|a| self.expr(body, a)).collect();
            let fits = lowered
                .first()
                .is_none_or(|arg| self.builtin_argument(body.file, name, arg, &param, &ret));
            let kind = ExprKind::Builtin {
                op,
                args: lowered,
                optional: false,
            };
            // A call with a wrong argument is not a `Principal?` whose use needs `?.`:
            // one mistake, one diagnostic.
            return self.node(body, kind, if fits { ret } else { Type::Error }, span);
        }
        let mut candidates: Vec<&str> = builtins::FUNCTION_NAMES.to_vec();
        if let Some(scope) = self.modules.get(body.file) {
            candidates.extend(scope.fns.keys().map(String::as_str));
        }
        let replacement = self
            .suggest(name, candidates.iter().copied())
            .map(str::to_string);
        let help = match &replacement {
            Some(close) => format!("did you mean `{close}`?"),
            None => "methods are called on a value (`xs.any(…)`); functions of a module with `module.name(…)`".to_string(),
        };
        self.report(
            body.file,
            callee.span,
            Code::UnknownFunction,
            format!("unknown function `{name}`"),
            "not a function",
            Some(help),
        );
        self.replace_with(callee.span, replacement);
        self.invalid(body, span)
    }

    fn arity(
        &mut self,
        body: &Body,
        name: &str,
        found: usize,
        expected: usize,
        span: Span,
    ) -> bool {
        if found == expected {
            return true;
        }
        let plural = if expected == 1 {
            "argument"
        } else {
            "arguments"
        };
        self.report(
            body.file,
            span,
            Code::WrongArity,
            format!("`{name}` takes {expected} {plural}, found {found}"),
            &format!("{found} given"),
            Some(format!("pass exactly {expected} {plural}")),
        );
        false
    }

    fn call_function(
        &mut self,
        body: &mut Body,
        id: ir::FnId,
        callee: &ast::Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> ir::Expr {
        self.depend(body, Owner::Fn(id), callee.span);
        let Some(entry) = self.functions.get_mut(id.0 as usize) else {
            return self.invalid(body, span);
        };
        entry.called = true;
        let (params, ret) = (entry.params.clone(), entry.ret.clone());
        if let Some(recording) = self.recording.as_deref_mut() {
            recording.called.push(id);
        }
        if let Some(place) = self.function_place(id) {
            self.refer_to(body.file, callee.span, place, &ret);
            if let Some(target) = self
                .index
                .as_deref()
                .and_then(|i| i.at_place(place.0, place.1))
            {
                self.record_call(body.file, span, callee.span, Target::Symbol(target), args);
            }
        }
        let lowered: Vec<ir::Expr> = args.iter().map(|a| self.expr(body, a)).collect();
        if !self.arity(body, &callee.name, args.len(), params.len(), span) {
            return self.invalid(body, span);
        }
        for (index, (arg, param)) in lowered.iter().zip(&params).enumerate() {
            self.expect_type(
                body.file,
                arg,
                param,
                format_args!("argument {} of `{}`", index + 1, callee.name),
            );
        }
        let kind = ExprKind::Call {
            func: id,
            args: lowered,
        };
        self.node(body, kind, ret, span)
    }

    /// The string literal an argument must be, for functions compiled at check time.
    fn literal_arg<'e>(
        &mut self,
        body: &Body,
        function: &str,
        arg: &'e ast::Expr,
    ) -> Option<&'e str> {
        if let ast::ExprKind::Str(text) = &arg.kind {
            return Some(text);
        }
        self.report(body.file, arg.span, Code::LiteralRequired, format!("`{function}` takes a string literal"), "not a literal", Some(format!("`{function}(…)` is validated and compiled when the policy is checked, so write the text out: `{function}(\"…\")`")));
        None
    }

    fn glob_call(&mut self, body: &mut Body, args: &[ast::Expr], span: Span) -> ir::Expr {
        if args.is_empty() {
            self.report(
                body.file,
                span,
                Code::WrongArity,
                "`glob` takes at least one pattern".to_string(),
                "no pattern",
                Some("write `glob(\"src/**\")`".to_string()),
            );
            return self.invalid(body, span);
        }
        let mut patterns = Vec::new();
        for arg in args {
            if let Some(text) = self.literal_arg(body, "glob", arg) {
                patterns.push((text.to_string(), arg.span));
            }
        }
        if patterns.len() != args.len() {
            return self.invalid(body, span);
        }
        match self.glob(body.file, patterns) {
            Some(id) => self.node(body, ExprKind::Glob(id), Type::Glob, span),
            None => self.invalid(body, span),
        }
    }

    fn literal_call(
        &mut self,
        body: &mut Body,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> ir::Expr {
        if !self.arity(body, name, args.len(), 1, span) {
            return self.invalid(body, span);
        }
        let Some(arg) = args.first() else {
            return self.invalid(body, span);
        };
        let Some(text) = self.literal_arg(body, name, arg) else {
            return self.invalid(body, span);
        };
        match name {
            "regex" => match self.regex(body.file, text, arg.span) {
                Some(id) => self.node(body, ExprKind::Regex(id), Type::Regex, span),
                None => self.invalid(body, span),
            },
            "timestamp" => match text.parse::<jiff::Timestamp>() {
                Ok(time) => self.node(body, ExprKind::Timestamp(time), Type::Timestamp, span),
                Err(_) => {
                    self.report(
                        body.file,
                        arg.span,
                        Code::BadLiteral,
                        format!("`{text}` is not a timestamp"),
                        "not RFC 3339",
                        Some(
                            "write a timestamp with an offset, e.g. `2026-11-26T09:15:00Z`"
                                .to_string(),
                        ),
                    );
                    self.invalid(body, span)
                }
            },
            _ => match parse_duration(text) {
                Some(seconds) => self.node(body, ExprKind::Duration(seconds), Type::Duration, span),
                None => {
                    self.report(
                        body.file,
                        arg.span,
                        Code::BadLiteral,
                        format!("`{text}` is not a duration"),
                        "not a duration",
                        Some("write a number with a unit: `30s`, `90m`, `2h`, `1d`".to_string()),
                    );
                    self.invalid(body, span)
                }
            },
        }
    }

    fn method_call(
        &mut self,
        body: &mut Body,
        base: &ast::Expr,
        name: &ast::Ident,
        args: &[ast::Expr],
        optional: bool,
        span: Span,
    ) -> ir::Expr {
        if let Some(module) = self.module_alias(body, base) {
            if module == FAILED_IMPORT {
                for arg in args
                    .iter()
                    .filter(|a| !matches!(a.kind, ast::ExprKind::Lambda { .. }))
                {
                    self.expr(body, arg);
                }
                return self.invalid(body, span);
            }
            if let Some(&id) = self.modules.get(module).and_then(|s| s.fns.get(&name.name)) {
                return self.call_function(body, id, name, args, span);
            }
            return self.module_member(body, module, name, span);
        }
        let base = self.receiver_expr(body, base);
        let Some(receiver) =
            self.receiver(body, &base, optional, format_args!(".{}(…)", name.name))
        else {
            for arg in args {
                if !matches!(arg.kind, ast::ExprKind::Lambda { .. }) {
                    self.expr(body, arg);
                }
            }
            return self.invalid(body, span);
        };
        let Some(sig) = builtins::method(&receiver, &name.name) else {
            let names = builtins::method_names(&receiver);
            let replacement = self
                .suggest(&name.name, names.iter().copied())
                .map(str::to_string);
            let help = match &replacement {
                Some(close) => format!("did you mean `{close}`?"),
                None if names.is_empty() => format!("`{receiver}` has no methods"),
                None => format!(
                    "`{receiver}` has {}",
                    crate::checker::quoted_list(&names, "")
                ),
            };
            self.report(
                body.file,
                name.span,
                Code::UnknownMethod,
                format!("no method `{}` on `{receiver}`", name.name),
                "unknown method",
                Some(help),
            );
            self.replace_with(name.span, replacement);
            return self.invalid(body, span);
        };
        // Every method is one of `METHOD_NAMES`: its name is kept without a copy.
        if let Some(index) = self.index.as_deref_mut()
            && let Some(&method) = (builtins::METHOD_NAMES.iter()).find(|m| **m == name.name)
        {
            let target = Target::Method {
                receiver: index.intern(&receiver),
                name: method,
            };
            self.refer(body.file, name.span, target.clone(), &Type::Error);
            self.record_call(body.file, span, name.span, target, args);
        }
        let takes_lambda = sig.params.iter().any(|p| matches!(p, Param::Lambda(_)));
        let expected = sig.params.len();
        let arity_ok = args.len() == expected || (sig.lambda_optional && args.is_empty());
        if !arity_ok && takes_lambda && expected == 1 && args.is_empty() {
            // `xs.count()`: the lambda is what is missing.
            let method = &name.name;
            let all = if sig.op == ir::Builtin::Count {
                "; `.len()` is the number of all elements"
            } else {
                ""
            };
            self.report(
                body.file,
                span,
                Code::WrongArity,
                format!("`{method}` takes a lambda, found no argument"),
                "0 given",
                Some(format!("write `.{method}(x => …)`{all}")),
            );
            return self.invalid(body, span);
        }
        if !arity_ok {
            self.arity(body, &name.name, args.len(), expected, span);
            return self.invalid(body, span);
        }
        let base_optional = base.ty.is_optional();
        // The receiver and the arguments: exactly as many places (pushes would reserve
        // four, and this is the IR of every method call of the policy).
        let mut lowered = Vec::with_capacity(1 + args.len());
        lowered.push(base);
        let mut body_ty = None;
        for (arg, param) in args.iter().zip(&sig.params) {
            match param {
                Param::Lambda(kind) => {
                    let Some((lambda, ty)) =
                        self.lambda(body, arg, &receiver.element(), kind, &name.name)
                    else {
                        return self.invalid(body, span);
                    };
                    body_ty = Some(ty);
                    lowered.push(lambda);
                }
                Param::Value(expected) => {
                    let arg = self.method_arg(body, arg, expected);
                    self.expect_type(
                        body.file,
                        &arg,
                        expected,
                        format_args!("the argument of `{}`", name.name),
                    );
                    lowered.push(arg);
                }
            }
        }
        if takes_lambda && body_ty.is_none() && sig.lambda_optional {
            let element = receiver.element();
            let numeric = matches!(element, Type::Int | Type::Duration | Type::Error)
                || (sig.op != ir::Builtin::Sum && element == Type::Timestamp);
            if !numeric {
                self.report(
                    body.file,
                    span,
                    Code::TypeMismatch,
                    format!(
                        "`{}` without a lambda needs a list of numbers, found `{receiver}`",
                        name.name
                    ),
                    "not numbers",
                    Some(format!("say what to add up: `.{}(x => …)`", name.name)),
                );
                return self.invalid(body, span);
            }
        }
        if matches!(sig.op, ir::Builtin::Sorted)
            && !matches!(
                receiver.element(),
                Type::Int
                    | Type::Str
                    | Type::Enum(_)
                    | Type::Timestamp
                    | Type::Duration
                    | Type::Error
            )
        {
            self.report(
                body.file,
                span,
                Code::TypeMismatch,
                format!("`sorted` needs a list of numbers, strings or times, found `{receiver}`"),
                "not sortable",
                Some("sort a list of plain values, e.g. `.map(x => x.name).sorted()`".to_string()),
            );
            return self.invalid(body, span);
        }
        let element = receiver.element();
        let mut ty = match sig.returns {
            Returns::Fixed(ty) => ty,
            Returns::ElementOptional => Type::optional(element),
            Returns::Receiver => receiver.clone(),
            Returns::ListOfBody => Type::list(body_ty.unwrap_or(Type::Error)),
            Returns::BodyList => body_ty.unwrap_or(Type::Error),
            Returns::BodyOrElement => body_ty.unwrap_or(element),
            Returns::BodyOrElementOptional => Type::optional(body_ty.unwrap_or(element)),
            Returns::MapValueOptional => match &receiver {
                Type::Map(value) => Type::optional((**value).clone()),
                _ => Type::Error,
            },
        };
        if base_optional {
            ty = Type::optional(ty);
        }
        if matches!(
            sig.op,
            ir::Builtin::Weekday
                | ir::Builtin::Hour
                | ir::Builtin::Minute
                | ir::Builtin::FormatTime
        ) {
            self.time_zone_literal(body, lowered.get(1));
        }
        let kind = ExprKind::Builtin {
            op: sig.op,
            args: lowered,
            optional,
        };
        self.node(body, kind, ty, span)
    }

    /// A time zone written as a literal is checked now rather than failing every
    /// evaluation.
    fn time_zone_literal(&mut self, body: &Body, zone: Option<&ir::Expr>) {
        let Some(zone) = zone else { return };
        let ExprKind::Str(name) = &zone.kind else {
            return;
        };
        if warden_change::time_zone(name).is_none() {
            let zones: Vec<String> = jiff::tz::db()
                .available()
                .map(|z| z.as_str().to_string())
                .collect();
            let help = match self.suggest(name, zones.iter().map(String::as_str)) {
                Some(close) => format!("did you mean `{close}`?"),
                None => "write an IANA zone such as `America/Los_Angeles` or `Europe/Dublin`, or a fixed offset such as `+05:30`".to_string(),
            };
            self.report(
                body.file,
                zone.span,
                Code::UnknownTimeZone,
                format!("`{name}` is not a known time zone"),
                "not a time zone",
                Some(help),
            );
        }
    }

    /// A method argument; a string literal where a glob is expected is compiled as one.
    fn method_arg(&mut self, body: &mut Body, arg: &ast::Expr, expected: &Type) -> ir::Expr {
        if *expected == Type::Glob
            && let ast::ExprKind::Str(text) = &arg.kind
        {
            return match self.glob(body.file, vec![(text.clone(), arg.span)]) {
                Some(id) => self.node(body, ExprKind::Glob(id), Type::Glob, arg.span),
                None => self.invalid(body, arg.span),
            };
        }
        self.expr(body, arg)
    }

    /// Checks `x => body` with `x` of type `param`; returns the lambda and its body's type.
    fn lambda(
        &mut self,
        body: &mut Body,
        arg: &ast::Expr,
        param: &Type,
        kind: &LambdaBody,
        method: &str,
    ) -> Option<(ir::Expr, Type)> {
        let ast::ExprKind::Lambda {
            param: name,
            body: lambda_body,
        } = &arg.kind
        else {
            self.report(
                body.file,
                arg.span,
                Code::LambdaRequired,
                format!("`{method}` takes a lambda"),
                "not a lambda",
                Some(format!("write `.{method}(x => …)`")),
            );
            self.expr(body, arg);
            return None;
        };
        let mark = body.bindings.len();
        self.define_local(
            body.file,
            SymbolKind::LambdaParameter,
            name,
            arg.span,
            param,
            false,
        );
        let slot = body.bind(&name.name, param.clone(), name.span, false);
        let lowered = match kind {
            LambdaBody::Bool => {
                self.condition(body, lambda_body, format_args!("the body of `{method}`"))
            }
            _ => self.expr(body, lambda_body),
        };
        body.bindings.truncate(mark);
        let ty = lowered.ty.clone();
        let ok = match kind {
            LambdaBody::Bool | LambdaBody::Any => true,
            LambdaBody::List => matches!(ty, Type::List(_) | Type::Error),
            LambdaBody::Number { timestamps } => {
                matches!(ty, Type::Int | Type::Duration | Type::Error)
                    || (*timestamps && ty == Type::Timestamp)
            }
        };
        if !ok {
            let wanted = match kind {
                LambdaBody::List => "a list",
                _ => "a number (`int` or `duration`)",
            };
            self.report(
                body.file,
                lowered.span,
                Code::TypeMismatch,
                format!("the body of `{method}` must give {wanted}, found `{ty}`"),
                &format!("this is `{ty}`"),
                None,
            );
            return None;
        }
        let kind = ExprKind::Lambda {
            param: slot,
            body: Box::new(lowered),
        };
        Some((self.node(body, kind, ty.clone(), arg.span), ty))
    }

    fn unary(
        &mut self,
        body: &mut Body,
        op: ast::UnaryOp,
        operand: &ast::Expr,
        span: Span,
    ) -> ir::Expr {
        match op {
            ast::UnaryOp::Not => {
                let operand = self.condition(body, operand, format_args!("the operand of `not`"));
                self.node(body, ExprKind::Not(Box::new(operand)), Type::Bool, span)
            }
            ast::UnaryOp::Neg => {
                let operand = self.expr(body, operand);
                if !self.definite(body, &operand, "-") {
                    return self.invalid(body, span);
                }
                let ty = operand.ty.clone();
                if !matches!(ty, Type::Int | Type::Duration | Type::Error) {
                    self.report(
                        body.file,
                        operand.span,
                        Code::TypeMismatch,
                        format!("cannot negate `{ty}`"),
                        &format!("this is `{ty}`"),
                        Some("only `int` and `duration` can be negated".to_string()),
                    );
                }
                self.node(body, ExprKind::Neg(Box::new(operand)), ty, span)
            }
        }
    }

    fn binary(
        &mut self,
        body: &mut Body,
        op: ast::BinaryOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> ir::Expr {
        use ast::BinaryOp as A;
        let (ty, lhs, rhs) = match op {
            A::Or | A::And => {
                let word = op.symbol();
                let lhs = self.condition(body, lhs, format_args!("the left side of `{word}`"));
                let rhs = self.condition(body, rhs, format_args!("the right side of `{word}`"));
                (Type::Bool, lhs, rhs)
            }
            A::Eq | A::Ne => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                self.equality(body, &lhs, &rhs, op_span, op.symbol());
                (Type::Bool, lhs, rhs)
            }
            A::Lt | A::Le | A::Gt | A::Ge => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                self.ordering(body, &lhs, &rhs, op.symbol());
                (Type::Bool, lhs, rhs)
            }
            A::In => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                self.membership(body, &lhs, &rhs);
                (Type::Bool, lhs, rhs)
            }
            A::Matches | A::MatchesRegex => {
                let lhs = self.expr(body, lhs);
                self.definite(body, &lhs, op.symbol());
                if !lhs.ty.is_optional() && !lhs.ty.is_stringy() {
                    self.report(
                        body.file,
                        lhs.span,
                        Code::TypeMismatch,
                        format!(
                            "`{}` needs a string on the left, found `{}`",
                            op.symbol(),
                            lhs.ty
                        ),
                        &format!("this is `{}`", lhs.ty),
                        Some("match a path or another string: `f.path matches …`".to_string()),
                    );
                }
                let pattern_ty = if op == A::Matches {
                    Type::Glob
                } else {
                    Type::Regex
                };
                let rhs = match (&rhs.kind, op) {
                    (ast::ExprKind::Str(_), A::Matches) => self.method_arg(body, rhs, &Type::Glob),
                    (ast::ExprKind::Str(text), _) => match self.regex(body.file, text, rhs.span) {
                        Some(id) => self.node(body, ExprKind::Regex(id), Type::Regex, rhs.span),
                        None => self.invalid(body, rhs.span),
                    },
                    _ => self.expr(body, rhs),
                };
                if op == A::Matches && rhs.ty == Type::Regex {
                    self.report(
                        body.file,
                        rhs.span,
                        Code::TypeMismatch,
                        "`matches` takes a glob, found a `regex`".to_string(),
                        "a regex",
                        Some("use `matches_regex` for regular expressions".to_string()),
                    );
                } else if matches!(rhs.ty, Type::Str | Type::Enum(_)) {
                    // Patterns are checked and compiled when the policy loads, so a string
                    // value cannot become one.
                    let (kind, example) = if op == A::Matches {
                        ("glob", "glob(\"src/**\")")
                    } else {
                        ("regex", "regex(\"^v[0-9]+\")")
                    };
                    let symbol = op.symbol();
                    self.report(
                        body.file,
                        rhs.span,
                        Code::TypeMismatch,
                        format!("`{symbol}` takes a {kind}, found a `string`"),
                        &format!("a `string`, not a {kind}"),
                        Some(format!(
                            "write the pattern as a {kind} (`let p = {example}`) or as a string \
                             literal right of `{symbol}`: patterns are checked when the policy \
                             loads, so a string value cannot become one; compare strings with \
                             `==`, `starts_with` or `ends_with`"
                        )),
                    );
                } else {
                    self.expect_type(
                        body.file,
                        &rhs,
                        &pattern_ty,
                        format_args!("the right side of `{}`", op.symbol()),
                    );
                }
                (Type::Bool, lhs, rhs)
            }
            A::Within => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                let _ = self.definite(body, &lhs, "within")
                    && self.expect_type(
                        body.file,
                        &lhs,
                        &Type::Timestamp,
                        format_args!("the left side of `within`"),
                    );
                self.window(body, &rhs);
                (Type::Bool, lhs, rhs)
            }
            A::Coalesce => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                if !lhs.ty.is_optional() && !lhs.ty.is_error() {
                    self.report(
                        body.file,
                        op_span,
                        Code::NeedlessDefault,
                        format!(
                            "`{}` is never missing, so `??` has no effect",
                            self.snippet(body.file, lhs.span)
                        ),
                        "never null",
                        Some("remove `?? …`".to_string()),
                    );
                }
                let inner = match &lhs.ty {
                    Type::Null => Type::Error,
                    other => other.unwrap_optional().clone(),
                };
                let ty = match inner.join(&rhs.ty) {
                    Some(ty) => ty,
                    None => {
                        self.report(
                            body.file,
                            rhs.span,
                            Code::TypeMismatch,
                            format!("the default is `{}` but the value is `{inner}`", rhs.ty),
                            &format!("this is `{}`", rhs.ty),
                            Some(format!("give a default of type `{inner}`")),
                        );
                        Type::Error
                    }
                };
                (ty, lhs, rhs)
            }
            A::Add | A::Sub | A::Mul | A::Div | A::Rem => {
                let lhs = self.expr(body, lhs);
                let rhs = self.expr(body, rhs);
                let ty = self.arithmetic(body, op, &lhs, &rhs);
                if ty == Type::Glob {
                    return self.glob_union(body, &lhs, &rhs, span);
                }
                (ty, lhs, rhs)
            }
        };
        let kind = ExprKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        };
        self.node(body, kind, ty, span)
    }

    /// `a + b` on globs: one glob matching either, built when the policy is checked so
    /// that it joins the policy-wide matcher like any other.
    fn glob_union(&mut self, body: &Body, lhs: &ir::Expr, rhs: &ir::Expr, span: Span) -> ir::Expr {
        let (Some(a), Some(b)) = (self.static_glob(lhs), self.static_glob(rhs)) else {
            self.report(
                body.file,
                span,
                Code::LiteralRequired,
                "globs can only be joined when both are written in the policy".to_string(),
                "not a known glob",
                Some("join `glob(…)` literals or top-level `let`s bound to them".to_string()),
            );
            return self.invalid(body, span);
        };
        let mut patterns = self
            .globs
            .get_index(a.0 as usize)
            .map(|(p, _)| p.clone())
            .unwrap_or_default();
        for pattern in self
            .globs
            .get_index(b.0 as usize)
            .map(|(p, _)| p.clone())
            .unwrap_or_default()
        {
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        let id = self.intern_glob(patterns);
        self.node(body, ExprKind::Glob(id), Type::Glob, span)
    }

    /// The glob an expression always denotes: a literal, or a `let` bound to one.
    pub fn static_glob(&self, expr: &ir::Expr) -> Option<ir::GlobId> {
        match &expr.kind {
            ExprKind::Glob(id) => Some(*id),
            ExprKind::Global(id) => self
                .globals
                .get(id.0 as usize)?
                .ir
                .as_ref()
                .and_then(|g| self.static_glob(&g.value)),
            _ => None,
        }
    }

    /// Reports an optional operand where a definite value is needed.
    fn definite(&mut self, body: &Body, operand: &ir::Expr, operator: &str) -> bool {
        if !operand.ty.is_optional() {
            return true;
        }
        let text = self.snippet(body.file, operand.span);
        self.report(
            body.file,
            operand.span,
            Code::OptionalOperand,
            format!("`{text}` may be missing, so `{operator}` cannot use it"),
            &format!("this is `{}`", operand.ty),
            Some(format!(
                "missing is not a value: supply one with `({text} ?? …)`"
            )),
        );
        // The quick fix offers the empty value of the type; other types have no
        // obvious default.
        let default = match operand.ty.unwrap_optional() {
            Type::Int => Some("0"),
            Type::Str | Type::Enum(_) => Some("\"\""),
            Type::Bool => Some("false"),
            Type::List(_) => Some("[]"),
            _ => None,
        };
        let text = self.source(body.file, operand.span).to_owned();
        self.replace_with(operand.span, default.map(|d| format!("({text} ?? {d})")));
        false
    }

    fn equality(
        &mut self,
        body: &Body,
        lhs: &ir::Expr,
        rhs: &ir::Expr,
        op_span: Span,
        symbol: &str,
    ) {
        let (left, right) = (lhs.ty.unwrap_optional(), rhs.ty.unwrap_optional());
        if left.join(right).is_none()
            && !matches!(lhs.ty, Type::Null)
            && !matches!(rhs.ty, Type::Null)
        {
            self.report(
                body.file,
                op_span,
                Code::TypeMismatch,
                format!("cannot compare `{}` with `{}`", lhs.ty, rhs.ty),
                &format!("`{symbol}` between different types"),
                Some("both sides of a comparison have the same type".to_string()),
            );
            return;
        }
        for (value, other) in [(lhs, rhs), (rhs, lhs)] {
            self.enum_literal(body, value, other);
        }
    }

    /// Reports a string literal compared with an enum-typed value it can never equal
    /// (`change.kind == "deploy"`, `t.weekday(tz) == "Sat"`). The literal may also be
    /// the value of a top-level `let`.
    fn enum_literal(&mut self, body: &Body, value: &ir::Expr, literal: &ir::Expr) {
        if let Type::Enum(variants) = value.ty.unwrap_optional() {
            let subject = format!("`{}`", self.snippet(body.file, value.span));
            self.enum_member(body.file, variants, &subject, literal);
        }
    }

    /// Reports `literal` (a string literal, or a `let` bound to one) when it is not
    /// one of `variants`; `subject` says what can never be it.
    pub(crate) fn enum_member(
        &mut self,
        file: usize,
        variants: &[String],
        subject: &str,
        literal: &ir::Expr,
    ) {
        let (file, span, text) = match self.static_expr(file, literal) {
            (
                file,
                ir::Expr {
                    kind: ExprKind::Str(text),
                    span,
                    ..
                },
            ) => (file, *span, text.clone()),
            _ => return,
        };
        if variants.iter().any(|v| v.as_str() == &*text) {
            return;
        }
        // Reported once however many places reach it: a rule's check is its own only
        // when the literal is in the rule.
        if let Some(recording) = self.recording.as_deref_mut()
            && !recording.owns(file, span)
        {
            recording.uncacheable = true;
        }
        if !self.impossible_reported.insert((file, span.start)) {
            return;
        }
        let names: Vec<&str> = variants.iter().map(String::as_str).collect();
        // `Sat` → `sat`, and a word the value abbreviates (`Saturday` → `sat`), before
        // spelling mistakes.
        let lower = text.to_lowercase();
        let abbreviated = names
            .iter()
            .copied()
            .find(|v| v.len() >= 3 && lower.starts_with(v));
        let close = abbreviated.or_else(|| self.suggest(&text, names.iter().copied()));
        let replacement = close.map(|close| format!("\"{close}\""));
        let help = match &replacement {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "the possible values are {}",
                crate::checker::quoted_list(&names, "")
            ),
        };
        self.report(
            file,
            span,
            Code::ImpossibleValue,
            format!("{subject} is never `\"{text}\"`"),
            "not a possible value",
            Some(help),
        );
        self.replace_with(span, replacement);
    }

    /// What an expression always is when it names a top-level `let`: the `let`'s value
    /// (and its file), followed through further `let`s; otherwise the expression itself.
    fn static_expr<'e>(&'e self, file: usize, expr: &'e ir::Expr) -> (usize, &'e ir::Expr) {
        let mut at = (file, expr);
        // Bounded: `let`s cannot be cyclic, but the walk never relies on that.
        for _ in 0..64 {
            let ExprKind::Global(id) = &at.1.kind else {
                break;
            };
            let Some(global) = self.globals.get(id.0 as usize) else {
                break;
            };
            let Some(ir) = global.ir.as_ref() else {
                break;
            };
            at = (global.file, &ir.value);
        }
        at
    }

    /// The string literals of a list literal (or a `let` bound to one), checked against
    /// the enum `value` is.
    fn enum_list(&mut self, body: &Body, value: &ir::Expr, list: &ir::Expr) {
        if let Type::Enum(variants) = value.ty.unwrap_optional() {
            let subject = format!("`{}`", self.snippet(body.file, value.span));
            self.enum_items(body.file, variants, &subject, list);
        }
    }

    /// Each string literal of a list literal (or of a `let` bound to one) that is not
    /// one of `variants`.
    pub(crate) fn enum_items(
        &mut self,
        file: usize,
        variants: &[String],
        subject: &str,
        list: &ir::Expr,
    ) {
        let (file, items) = match self.static_expr(file, list) {
            (
                file,
                ir::Expr {
                    kind: ExprKind::List(items),
                    ..
                },
            ) => (file, items.clone()),
            _ => return,
        };
        for item in &items {
            self.enum_member(file, variants, subject, item);
        }
    }

    fn ordering(&mut self, body: &Body, lhs: &ir::Expr, rhs: &ir::Expr, symbol: &str) {
        if !(self.definite(body, lhs, symbol) && self.definite(body, rhs, symbol)) {
            return;
        }
        let ordered = |t: &Type| {
            matches!(
                t,
                Type::Int
                    | Type::Duration
                    | Type::Timestamp
                    | Type::Str
                    | Type::Enum(_)
                    | Type::Error
            )
        };
        let same = lhs.ty.join(&rhs.ty).is_some();
        if !ordered(&lhs.ty) || !ordered(&rhs.ty) || !same {
            self.report(
                body.file,
                lhs.span.to(rhs.span),
                Code::TypeMismatch,
                format!("cannot order `{}` and `{}` with `{symbol}`", lhs.ty, rhs.ty),
                "not comparable",
                Some(
                    "`<`, `<=`, `>`, `>=` compare two ints, durations, timestamps or strings"
                        .to_string(),
                ),
            );
        }
    }

    fn membership(&mut self, body: &Body, lhs: &ir::Expr, rhs: &ir::Expr) {
        if !self.definite(body, lhs, "in") || !self.definite(body, rhs, "in") {
            return;
        }
        match &rhs.ty {
            Type::Error => {}
            Type::List(element) => {
                self.enum_list(body, lhs, rhs);
                // `"sat" in days`, with `days: list<"mon" | …>`.
                if let Type::Enum(variants) = &**element {
                    let subject = format!("an element of `{}`", self.snippet(body.file, rhs.span));
                    self.enum_member(body.file, variants, &subject, lhs);
                }
                if lhs.ty.join(element).is_none() {
                    self.report(
                        body.file,
                        lhs.span,
                        Code::TypeMismatch,
                        format!("`{}` is never in a `{}`", lhs.ty, rhs.ty),
                        &format!("this is `{}`", lhs.ty),
                        None,
                    );
                }
            }
            ty if ty.is_stringy() => {
                self.expect_type(body.file, lhs, &Type::Str, format_args!("a substring test"));
            }
            other => {
                self.report(
                    body.file,
                    rhs.span,
                    Code::TypeMismatch,
                    format!("`in` needs a list or a string on the right, found `{other}`"),
                    &format!("this is `{other}`"),
                    None,
                );
            }
        }
    }

    /// The right side of `within`: a record with `start` and `end` timestamps.
    fn window(&mut self, body: &Body, rhs: &ir::Expr) {
        if !self.definite(body, rhs, "within") {
            return;
        }
        if let Type::Record(record) = rhs.ty {
            let fields = self.fields.get(record);
            let has = |name: &str| {
                fields.is_some_and(|f| f.iter().any(|(n, t)| *n == name && *t == Type::Timestamp))
            };
            if has("start") && has("end") {
                return;
            }
        }
        if rhs.ty.is_error() {
            return;
        }
        self.report(
            body.file,
            rhs.span,
            Code::TypeMismatch,
            format!(
                "`within` needs a window with `start` and `end` timestamps, found `{}`",
                rhs.ty
            ),
            &format!("this is `{}`", rhs.ty),
            Some("use a record such as a `Freeze`".to_string()),
        );
    }

    fn arithmetic(
        &mut self,
        body: &Body,
        op: ast::BinaryOp,
        lhs: &ir::Expr,
        rhs: &ir::Expr,
    ) -> Type {
        use ast::BinaryOp as A;
        let symbol = op.symbol();
        if !(self.definite(body, lhs, symbol) && self.definite(body, rhs, symbol)) {
            return Type::Error;
        }
        let (l, r) = (&lhs.ty, &rhs.ty);
        if l.is_error() || r.is_error() {
            return Type::Error;
        }
        let result = match (op, l, r) {
            (_, Type::Int, Type::Int) => Some(Type::Int),
            (A::Add | A::Sub, Type::Duration, Type::Duration) => Some(Type::Duration),
            (A::Add | A::Sub, Type::Timestamp, Type::Duration) => Some(Type::Timestamp),
            (A::Add, Type::Duration, Type::Timestamp) => Some(Type::Timestamp),
            (A::Sub, Type::Timestamp, Type::Timestamp) => Some(Type::Duration),
            (A::Add, Type::Approvers, Type::Approvers) => Some(Type::Approvers),
            (A::Add, Type::Glob, Type::Glob) => Some(Type::Glob),
            (A::Add, a, b) if a.is_stringy() && b.is_stringy() => Some(Type::Str),
            (A::Add, Type::List(_), Type::List(_)) => l.join(r),
            _ => None,
        };
        result.unwrap_or_else(|| {
            self.report(body.file, lhs.span.to(rhs.span), Code::TypeMismatch, format!("cannot apply `{symbol}` to `{l}` and `{r}`"), "unsupported operands", Some("arithmetic works on ints; `+`/`-` also on durations and timestamps; `+` joins strings, lists and approver sets".to_string()));
            Type::Error
        })
    }
}

/// `30s`, `90m`, `2h`, `1d` → seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let unit = text.chars().last()?;
    let number: i64 = text
        .get(..text.len() - unit.len_utf8())?
        .replace('_', "")
        .parse()
        .ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    number.checked_mul(scale)
}
