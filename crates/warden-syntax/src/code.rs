//! The one declaration of the diagnostics' codes: each code's name, its severity and
//! what it means. The parser and the checker build diagnostics from [`Code`]s; the
//! table of `docs/language.md` ("Diagnostics") is generated from [`CODE_TABLE`] (a test
//! fails when it is stale), and the check fixtures must give every code.

use crate::diagnostic::Severity;

/// Expands the declaration below: the [`Code`] enum, its name and severity, and the
/// table of the docs, one row per group of codes with one meaning.
macro_rules! codes {
    ($( [$($variant:ident = $name:literal $severity:ident),+ $(,)?] => $meaning:literal, )+) => {
        /// A diagnostic's stable identifier (kebab-case when written: [`Code::as_str`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($($variant,)+)+
        }

        impl Code {
            /// Every code, in the order of the docs' table.
            pub const ALL: &[Code] = &[$($(Code::$variant,)+)+];

            /// The name written in reports, e.g. `unknown-field`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($(Code::$variant => $name,)+)+
                }
            }

            /// Whether a diagnostic of this code stops evaluation.
            pub const fn severity(self) -> Severity {
                match self {
                    $($(Code::$variant => Severity::$severity,)+)+
                }
            }
        }

        /// The rows of the docs' table: the codes of one meaning, and that meaning.
        pub const CODE_TABLE: &[(&[Code], &str)] = &[$((&[$(Code::$variant),+], $meaning),)+];
    };
}

codes! {
    [
        SyntaxError = "syntax-error" Error,
        BadTemplate = "bad-template" Error,
        BadLiteral = "bad-literal" Error,
        NestingTooDeep = "nesting-too-deep" Error,
    ] => "the text does not parse (every broken top-level item is reported; a computed approval count without parentheses is told so)",
    [
        UnknownName = "unknown-name" Error,
        UnknownField = "unknown-field" Error,
        UnknownMethod = "unknown-method" Error,
        UnknownFunction = "unknown-function" Error,
        UnknownType = "unknown-type" Error,
        UnknownModule = "unknown-module" Error,
        UnknownRule = "unknown-rule" Error,
    ] => "a name that does not exist, with \"did you mean\" when one is close (searched for the first 200 unknown names of a policy: each search reads every name in scope, and a policy of thousands of unknown names must still check in moments)",
    [
        TypeMismatch = "type-mismatch" Error,
        WrongArity = "wrong-arity" Error,
        ImpossibleValue = "impossible-value" Error,
    ] => "types and arguments that do not fit; a string compared with (or looked up in a list of) an enum it can never equal",
    [
        OptionalAccess = "optional-access" Error,
        OptionalOperand = "optional-operand" Error,
        OptionalCondition = "optional-condition" Error,
    ] => "a value that may be missing used without `?.`, `??` or a decision",
    [
        InvalidGlob = "invalid-glob" Error,
        RegexAsGlob = "regex-as-glob" Error,
        InvalidRegex = "invalid-regex" Error,
        UnknownTimeZone = "unknown-time-zone" Error,
        LiteralRequired = "literal-required" Error,
    ] => "patterns and zones are checked when the policy is (a regex too large to compile is reported by `warden check` and `warden-lsp`; an evaluation that meets one makes the rule an error)",
    [
        MisplacedLambda = "misplaced-lambda" Error,
        LambdaRequired = "lambda-required" Error,
        MisplacedItem = "misplaced-item" Error,
        ImportEscapes = "import-escapes" Error,
        ImportSelf = "import-self" Error,
    ] => "constructs in the wrong place",
    [
        DuplicateName = "duplicate-name" Error,
        DuplicateRule = "duplicate-rule" Error,
        DuplicatePolicy = "duplicate-policy" Error,
        Recursion = "recursion" Error,
        ZeroApprovals = "zero-approvals" Error,
        MissingOverrideSet = "missing-override-set" Error,
    ] => "policy structure",
    [
        UnusedLet = "unused-let" Warning,
        UnusedImport = "unused-import" Warning,
        ConstantCondition = "constant-condition" Warning,
        NeedlessDefault = "needless-default" Warning,
    ] => "code that does nothing or always gives the same answer; a top-level `let` is `unused-let` when no rule, exemption or `policy` block reaches it, as for `unused-function`",
    [
        UnusedFunction = "unused-function" Warning,
    ] => "a function of the policy that no rule, exemption or `policy` block reaches, directly or through other definitions (not reported for a file without rules, a library checked on its own, nor for a name starting with `_`)",
    [
        ImpossibleCondition = "impossible-condition" Warning,
    ] => "a rule's or exemption's `when` whose `and`ed tests of one value cannot all hold: `change.kind == \"deployment\" and change.kind == \"pull_request\"`, `x in [\"a\"] and x == \"b\"`, `c and not c`, or every value of a closed set excluded (`change.author.kind` is one of `\"human\"`, `\"bot\"`, `\"unknown\"`). Tests are `==`, `!=`, `in [literals]`, their negation with `not`, and a boolean value itself",
    [
        ExemptsImpossibleRule = "exempts-impossible-rule" Warning,
    ] => "an exemption that lifts a rule that can never apply (its condition is `impossible-condition` or always false)",
    [
        ShadowedRule = "shadowed-rule" Warning,
    ] => "a rule that never changes the verdict: another rule has the same condition (compared as computations, so names of `let`s and lambda parameters do not matter) and either denies outright or makes each of its demands too (as many approvals or more from the same approvers, or `deny unless` them; the same `require` conditions), is not advisory unless this one is, is overridden only the same way, and is lifted by no exemption that does not lift this one",
    [
        CoveredGlob = "covered-glob" Warning,
    ] => "a pattern that matches no path another pattern already matches: within one glob (`glob(\"src/**\", \"src/lib/**\")`), or across `or`ed tests of one value (`f.path matches \"**/*.rs\" or f.path matches \"src/*.rs\"`). The test is exact (the patterns' automata are compared), so it is reported only when certain",
    [
        NoRules = "no-rules" Warning,
    ] => "a policy without a rule (and without `require approval after last push`) allows every change: usually a library file checked on its own, or `--policy` pointing at the wrong place",
}

impl Code {
    /// What the code means: its row of the docs' table.
    pub fn meaning(self) -> &'static str {
        CODE_TABLE
            .iter()
            .find(|(codes, _)| codes.contains(&self))
            .map_or("", |(_, meaning)| meaning)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        for name in &names {
            assert!(
                name.split('-')
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{name}"
            );
        }
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a code is declared twice");
    }
}
