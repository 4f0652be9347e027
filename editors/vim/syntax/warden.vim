" Vim syntax file for Warden policies (docs/language.md; keywords from
" grammar/warden.pest, checked by crates/warden-lsp/tests/protocol.rs).
if exists('b:current_syntax')
  finish
endif

syn case match

" Keywords everywhere except after `.` (`commit.message` is a field).
syn keyword wardenDeclaration let fn rule exempt policy
syn keyword wardenImport import as
syn keyword wardenKeyword each from when require deny unless else if then approvals approval where allow stale advisory overridable by message
syn keyword wardenOperatorWord and or not in matches_regex matches within
syn keyword wardenConstant true false null anyone
" Starting at the dot, a member wins over a keyword at its word.
syn match wardenMember "\.\h\w*"

" Words that are keywords only after another word; elsewhere they are names
" (`team("sre")`, `list<T>`).
syn match wardenKeyword "\(\<import\s\+\)\@<=std\>"
syn match wardenKeyword "\(\<each\s\+\)\@<=\(team\|user\)\>"
syn match wardenKeyword "\(\<approvals\=\s\+\)\@<=after\s\+last\s\+push\>"
syn match wardenType "\<\(list\|map\)\ze\s*<"
syn match wardenType "\<\(bool\|int\|string\|timestamp\|duration\|glob\|regex\|approvers\)\>\(\s*(\)\@!"
syn match wardenType "\<\u\w*\>"
syn keyword wardenBuiltinName change approver override

syn match wardenDeclName "\(\<\(rule\|exempt\|fn\|let\)\s\+\)\@<=\h\w*"
syn match wardenFunction "\h\w*\ze\s*("

syn match wardenNumber "\<\d[0-9_]*[smhd]\=\>"

syn match wardenEscape "\\." contained
syn region wardenString start=+"+ skip=+\\.+ end=+"\|$+ contains=wardenEscape
" A message: `{expr}` holes are interpolated; in other strings braces are plain text.
syn region wardenTemplate matchgroup=wardenString start=+\(\<\(deny\|message\|else\)\s*\)\@<="+ skip=+\\.+ end=+"\|$+ contains=wardenEscape,wardenHole
syn region wardenHole matchgroup=wardenHoleDelimiter start="{" end="}\|$" contained contains=wardenString,wardenNumber,wardenOperatorWord,wardenConstant,wardenMember,wardenFunction,wardenBuiltinName

syn match wardenComment "//.*$" contains=@Spell
syn match wardenDocComment "///\(/\)\@!.*$" contains=@Spell

hi def link wardenDeclaration Structure
hi def link wardenImport Include
hi def link wardenKeyword Keyword
hi def link wardenOperatorWord Operator
hi def link wardenConstant Constant
hi def link wardenType Type
hi def link wardenBuiltinName Identifier
hi def link wardenDeclName Function
hi def link wardenFunction Function
hi def link wardenNumber Number
hi def link wardenString String
hi def link wardenTemplate String
hi def link wardenEscape SpecialChar
hi def link wardenHoleDelimiter Delimiter
hi def link wardenComment Comment
hi def link wardenDocComment SpecialComment

let b:current_syntax = 'warden'
