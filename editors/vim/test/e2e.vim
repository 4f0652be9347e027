" End-to-end through Vim's own LSP client layer (the `lsp` channel mode): start
" $WARDEN_LSP, initialize, open $WARDEN_E2E_DIR/main.warden (which has an error),
" wait for its diagnostics, shut down. Writes one JSON line to $WARDEN_E2E_OUT:
" {"skip": why} when this Vim has no `lsp` channel mode, else what the server said.
"
"   WARDEN_LSP=… WARDEN_E2E_DIR=… WARDEN_E2E_OUT=… vim -Nu NONE -i NONE -es -S e2e.vim
"
" Run by the Rust test `vim_client_end_to_end` in crates/warden-lsp/tests/protocol.rs,
" which checks the result.
let s:out = $WARDEN_E2E_OUT
let s:result = {}
let s:published = []

function s:OnMessage(channel, message) abort
  if get(a:message, 'method', '') ==# 'textDocument/publishDiagnostics'
    call add(s:published, a:message.params)
  endif
endfunction

" Waits up to 30 s for `condition`, handling channel messages meanwhile.
function s:WaitFor(condition) abort
  let l:waited = 0
  while !eval(a:condition) && l:waited < 30000
    sleep 10m
    let l:waited += 10
  endwhile
  return eval(a:condition)
endfunction

function s:Run() abort
  if !has('channel') || !has('job') || !has('patch-8.2.4780')
    let s:result.skip = 'this Vim has no `lsp` channel mode (Vim 9 with +channel and +job has)'
    return
  endif
  let s:job = job_start([$WARDEN_LSP], #{in_mode: 'lsp', out_mode: 'lsp', err_io: 'null',
        \ callback: function('s:OnMessage')})
  let l:channel = job_getchannel(s:job)
  let l:folder = 'file://' . $WARDEN_E2E_DIR
  let l:uri = l:folder . '/main.warden'
  let l:initialized = ch_evalexpr(l:channel, #{method: 'initialize', params: #{
        \ processId: getpid(), rootUri: l:folder,
        \ workspaceFolders: [#{uri: l:folder, name: 'e2e'}], capabilities: {}}},
        \ #{timeout: 30000})
  let s:result.hover = get(get(get(l:initialized, 'result', {}), 'capabilities', {}), 'hoverProvider', v:false)
  call ch_sendexpr(l:channel, #{method: 'initialized', params: {}})
  call ch_sendexpr(l:channel, #{method: 'textDocument/didOpen', params: #{textDocument: #{
        \ uri: l:uri, languageId: 'warden', version: 1,
        \ text: join(readfile($WARDEN_E2E_DIR . '/main.warden'), "\n") . "\n"}}})
  call s:WaitFor('!empty(filter(copy(s:published), "!empty(v:val.diagnostics)"))')
  let s:result.published = s:published
  let l:shutdown = ch_evalexpr(l:channel, #{method: 'shutdown'}, #{timeout: 30000})
  let s:result.shutdown = has_key(l:shutdown, 'result') ? l:shutdown.result : l:shutdown
  call ch_sendexpr(l:channel, #{method: 'exit'})
  call s:WaitFor('job_status(s:job) !=# "run"')
  let l:info = job_info(s:job)
  let s:result.status = l:info.status
  let s:result.exitval = l:info.exitval
endfunction

try
  call s:Run()
catch
  let s:result.error = v:exception . ' at ' . v:throwpoint
endtry
call writefile([json_encode(s:result)], s:out)
qall!
