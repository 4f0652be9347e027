" Warden policies (docs/editors.md).
autocmd BufRead,BufNewFile *.warden setfiletype warden
